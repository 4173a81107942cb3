"""The sandbox's memory: OAuth clients, grants, tokens and the EHR records, behind one lock.

Tokens, codes and client secrets are kept only as SHA-256 digests. With a ``state_file`` every
change is written atomically (temp file, fsync, ``os.replace``), so a refresh token rotated before
a restart is still the only one that works after it, as on DrChrono.

The one exception is the refresh grace period: for ``grace_s`` seconds after a rotation, the pair
it issued is kept in plain text in memory (never in the state file) so that the spent token can
be answered with the same pair again. A restart therefore ends every grace period.
"""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from drchrono_sandbox.errors import SandboxError
from drchrono_sandbox.files import atomic_write_text

STATE_VERSION = 1


def digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def derive_secret(seed: int, purpose: str, length: int = 40) -> str:
    """A URL-safe string fixed by the seed, so sandboxes started alike hand out the same values."""
    raw = hashlib.sha256(f"drchrono-sandbox\x1f{seed}\x1f{purpose}".encode()).digest()
    raw += hashlib.sha256(raw).digest()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")[:length]


@dataclass
class Client:
    client_id: str
    secret_hash: str
    redirect_uris: list[str]
    name: str = "DrChrono sandbox application"


@dataclass
class AccessToken:
    client_id: str
    scopes: list[str]
    expires_at: float
    refresh: str | None = None  # digest of the refresh token issued with it


@dataclass
class RefreshToken:
    client_id: str
    scopes: list[str]
    access: str | None = None  # digest of the access token issued with it


@dataclass
class AuthCode:
    client_id: str
    redirect_uri: str
    scopes: list[str]
    expires_at: float
    code_challenge: str | None = None
    code_challenge_method: str | None = None


@dataclass
class IssuedTokens:
    access_token: str
    scopes: list[str]
    refresh_token: str | None


@dataclass
class Rotation:
    """What a spent refresh token is answered with during its grace period (memory only)."""

    client_id: str
    scopes: list[str]
    issued: IssuedTokens
    until: float


@dataclass
class Store:
    seed: int
    clients: dict[str, Client] = field(default_factory=dict)
    access: dict[str, AccessToken] = field(default_factory=dict)
    refresh: dict[str, RefreshToken] = field(default_factory=dict)
    codes: dict[str, AuthCode] = field(default_factory=dict)
    # resource name -> id (as text) -> record; dicts keep creation order for listing.
    records: dict[str, dict[str, dict[str, Any]]] = field(default_factory=dict)
    counters: dict[str, int] = field(default_factory=dict)
    meta: dict[str, Any] = field(default_factory=dict)
    # digest of a spent refresh token -> the pair its rotation issued; never saved.
    rotations: dict[str, Rotation] = field(default_factory=dict)
    path: Path | None = None
    clock: Callable[[], float] = time.time
    lock: threading.RLock = field(default_factory=threading.RLock)

    # -- persistence --------------------------------------------------------------------
    def to_json(self) -> dict[str, Any]:
        return {
            "version": STATE_VERSION,
            "seed": self.seed,
            "meta": self.meta,
            "clients": {k: asdict(v) for k, v in self.clients.items()},
            "access": {k: asdict(v) for k, v in self.access.items()},
            "refresh": {k: asdict(v) for k, v in self.refresh.items()},
            "records": self.records,
            "counters": self.counters,
        }

    def save(self) -> None:
        if self.path is None:
            return
        with self.lock:
            payload = json.dumps(self.to_json(), separators=(",", ":"), sort_keys=True)
            atomic_write_text(self.path, payload, mode=0o600)

    @classmethod
    def load(cls, path: Path) -> Store:
        try:
            raw = json.loads(path.read_text(encoding="utf-8"))
            if raw.get("version") != STATE_VERSION:
                raise ValueError(f"unsupported state version {raw.get('version')!r}")
            store = cls(
                seed=int(raw["seed"]),
                clients={k: Client(**v) for k, v in raw["clients"].items()},
                access={k: AccessToken(**v) for k, v in raw["access"].items()},
                refresh={k: RefreshToken(**v) for k, v in raw["refresh"].items()},
                records=raw["records"],
                counters={k: int(v) for k, v in raw["counters"].items()},
                meta=dict(raw.get("meta") or {}),
                path=path,
            )
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise SandboxError(
                f"The sandbox state file {path} cannot be read ({type(exc).__name__}: {exc}).",
                hint="Delete it to start from fresh seeded data, or pass another --state-file.",
            ) from None
        return store

    # -- clients ------------------------------------------------------------------------
    def authenticate_client(self, client_id: str | None, secret: str | None) -> Client | None:
        with self.lock:
            client = self.clients.get(client_id or "")
        if client is None or secret is None:
            return None
        return client if secrets.compare_digest(client.secret_hash, digest(secret)) else None

    def client(self, client_id: str | None) -> Client | None:
        with self.lock:
            return self.clients.get(client_id or "")

    # -- codes --------------------------------------------------------------------------
    def new_code(self, code: AuthCode) -> str:
        value = secrets.token_urlsafe(24)
        with self.lock:
            now = self.clock()
            self.codes = {k: c for k, c in self.codes.items() if c.expires_at > now}
            self.codes[digest(value)] = code
        return value

    def take_code(self, value: str) -> AuthCode | None:
        """Codes are single use: taking one removes it, expired or not."""
        with self.lock:
            code = self.codes.pop(digest(value), None)
        if code is None or code.expires_at <= self.clock():
            return None
        return code

    # -- tokens -------------------------------------------------------------------------
    def issue(
        self,
        client_id: str,
        scopes: Iterable[str],
        ttl: int,
        *,
        with_refresh: bool,
        refresh_value: str | None = None,
    ) -> IssuedTokens:
        scope_list = list(scopes)
        access_value = secrets.token_urlsafe(30)
        refresh_plain = (refresh_value or secrets.token_urlsafe(30)) if with_refresh else None
        with self.lock:
            a_hash = digest(access_value)
            r_hash = digest(refresh_plain) if refresh_plain else None
            self.access[a_hash] = AccessToken(client_id, scope_list, self.clock() + ttl, r_hash)
            if r_hash:
                self.refresh[r_hash] = RefreshToken(client_id, scope_list, a_hash)
            self._purge_expired()
            self.save()
        return IssuedTokens(access_value, scope_list, refresh_plain)

    def rotate(
        self,
        refresh_value: str,
        client_id: str,
        scopes: list[str] | None,
        ttl: int,
        *,
        grace_s: float = 0.0,
    ) -> IssuedTokens | None | str:
        """Spend a refresh token: revoke it and its access token, issue a new pair.

        Within ``grace_s`` seconds of that, presenting the spent token again returns the same
        pair (django-oauth-toolkit's REFRESH_TOKEN_GRACE_PERIOD_SECONDS), as long as that pair
        has not been spent or revoked in turn. Returns ``None`` when the token is unknown,
        revoked, past its grace or another client's, or ``"invalid_scope"`` when more scopes
        are asked than were granted.
        """
        with self.lock:
            r_hash = digest(refresh_value)
            now = self.clock()
            self.rotations = {k: r for k, r in self.rotations.items() if r.until > now}
            record = self.refresh.get(r_hash)
            if record is None:
                return self._replay_rotation(r_hash, client_id, scopes)
            if record.client_id != client_id:
                return None
            if scopes is not None and not set(scopes) <= set(record.scopes):
                return "invalid_scope"
            self._revoke_refresh(r_hash)
            issued = self.issue(client_id, scopes or record.scopes, ttl, with_refresh=True)
            if grace_s > 0:
                self.rotations[r_hash] = Rotation(client_id, record.scopes, issued, now + grace_s)
            return issued

    def _replay_rotation(
        self, r_hash: str, client_id: str, scopes: list[str] | None
    ) -> IssuedTokens | None | str:
        rotation = self.rotations.get(r_hash)
        if rotation is None or rotation.client_id != client_id:
            return None
        if scopes is not None and not set(scopes) <= set(rotation.scopes):
            return "invalid_scope"
        pair = rotation.issued
        if pair.refresh_token is None or digest(pair.refresh_token) not in self.refresh:
            # The pair was spent or revoked since: handing it out again would help nobody.
            return None
        return pair

    def has_refresh(self, refresh_value: str) -> bool:
        with self.lock:
            return digest(refresh_value) in self.refresh

    def revoke(self, value: str, client_id: str | None = None) -> bool:
        """Revoke an access or refresh token (and its pair). Unknown tokens are ignored."""
        with self.lock:
            h = digest(value)
            rotation = self.rotations.get(h)
            if rotation is not None and client_id in (None, rotation.client_id):
                del self.rotations[h]  # a spent token in its grace period: revoking ends it
                return True
            owner = self.refresh.get(h) or self.access.get(h)
            if owner is None or (client_id is not None and owner.client_id != client_id):
                return False
            if h in self.refresh:
                self._revoke_refresh(h)
            else:
                self.access.pop(h, None)
            self.save()
            return True

    def _revoke_refresh(self, r_hash: str) -> None:
        record = self.refresh.pop(r_hash, None)
        if record is not None and record.access:
            self.access.pop(record.access, None)

    def _purge_expired(self) -> None:
        now = self.clock()
        for key in [k for k, t in self.access.items() if t.expires_at <= now and not t.refresh]:
            del self.access[key]

    def check_access(self, value: str) -> tuple[AccessToken | None, str]:
        """The live access token for ``value`` and, when there is none, why."""
        with self.lock:
            token = self.access.get(digest(value))
        if token is None:
            return None, "The access token is invalid."
        if token.expires_at <= self.clock():
            return None, "The access token has expired."
        return token, ""

    def expire_access_tokens(self) -> None:
        with self.lock:
            past = self.clock() - 1
            for token in self.access.values():
                token.expires_at = min(token.expires_at, past)
            self.save()

    # -- records ------------------------------------------------------------------------
    def next_id(self, resource: str, start: int) -> int:
        with self.lock:
            value = self.counters.get(resource, start)
            self.counters[resource] = value + 1
            return value

    def table(self, resource: str) -> dict[str, dict[str, Any]]:
        return self.records.setdefault(resource, {})
