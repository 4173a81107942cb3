"""Where tokens live between runs: one 0600 JSON file, written atomically, locked across processes.

Refresh tokens rotate on DrChrono: the moment the server answers a refresh, the old refresh token
is dead and the only copy of the new one is in our memory. So the store is written (temp file in
the same directory, fsync, ``os.replace``, fsync of the directory) before a new access token is
used, and a refresh in flight is announced first with a *pending* marker, so that a process killed
halfway leaves either the old state, the new state, or a marker that explains what happened.

What a crash costs, by where it strikes a refresh (``tests/crash_helpers/crash_at.py`` reproduces
each):

- before the request: nothing; the marker is found and the same refresh token is used again.
- after the store's temp file is complete (``during_store_write``): the next start adopts it.
- after the server answered but before the temp file is complete (``after_response``,
  ``store_write_partial``): the new refresh token existed only in the dead process. On live
  DrChrono the old one is already revoked, so unless the server has django-oauth-toolkit's
  ``REFRESH_TOKEN_GRACE_PERIOD_SECONDS`` set (re-presenting the old token within the grace period
  returns the same new pair), the next start gets ``invalid_grant`` and the error says a refresh
  was interrupted and that ``harness auth login`` (or a new DRCHRONO_REFRESH_TOKEN) is needed.
  The window is one HTTP round trip plus one small fsync'd write.

The lock is a ``filelock`` lock file beside the store plus a per-path thread lock, so exactly one
thread of one process refreshes while the others wait and then read its result.
"""

from __future__ import annotations

import contextlib
import dataclasses
import hashlib
import json
import logging
import os
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import filelock
import platformdirs

from harness.atomicfile import atomic_write_bytes
from harness.errors import HarnessError

log = logging.getLogger("harness.auth")

STORE_ENV_VAR = "HARNESS_TOKEN_STORE"
STORE_VERSION = 1
DEFAULT_LOCK_TIMEOUT_S = 120.0

TokenKey = tuple[str, str, str]  # (token name, client id, token URL)


def fingerprint(secret: str) -> str:
    """A stable, non-reversible name for a secret (to recognise a seed without storing it twice)."""
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class PendingRefresh:
    """A refresh was started with the refresh token whose fingerprint is given."""

    started_at: float
    refresh_token_sha256: str
    pid: int


@dataclass(frozen=True)
class StoredToken:
    """One token set. ``repr`` never shows a token."""

    token_name: str
    client_id: str
    token_url: str
    access_token: str | None = field(default=None, repr=False)
    token_type: str = "Bearer"
    expires_at: float | None = None
    scope: str = ""
    refresh_token: str | None = field(default=None, repr=False)
    obtained_at: float = 0.0
    source: str = "refresh"  # "login", "refresh", "seed", "client_credentials", "password"
    # Fingerprint of the environment's seed refresh token this entry descends from or replaced:
    # the same seed again means "use the stored (rotated) token", a different one means the
    # user authorized again and the environment wins.
    seed_sha256: str | None = None
    rotated_from_sha256: str | None = None  # fingerprint of the refresh token we traded for this
    pending: PendingRefresh | None = None

    @property
    def key(self) -> TokenKey:
        return (self.token_name, self.client_id, self.token_url)

    def expires_in(self, now: float | None = None) -> float | None:
        if self.expires_at is None:
            return None
        return self.expires_at - (time.time() if now is None else now)

    def to_json(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> StoredToken:
        pending = data.get("pending")
        fields = {f.name for f in dataclasses.fields(cls)}
        values = {k: v for k, v in data.items() if k in fields and k != "pending"}
        return cls(**values, pending=PendingRefresh(**pending) if pending else None)


def key_text(key: TokenKey) -> str:
    return " | ".join(key)


class _CorruptStore(Exception):
    pass


class TokenStore:
    """Token sets keyed by (token name, client id, token URL); file-backed or in memory."""

    def __init__(
        self, path: str | os.PathLike[str] | None, *, lock_timeout_s: float = DEFAULT_LOCK_TIMEOUT_S
    ) -> None:
        self._path = Path(path).expanduser() if path is not None else None
        self._lock_timeout_s = lock_timeout_s
        self._memory: dict[str, StoredToken] = {}
        self.warnings: list[str] = []
        if self._path is None:
            self._thread_lock: threading.RLock = threading.RLock()
            self._file_lock: filelock.BaseFileLock | None = None
        else:
            self._thread_lock, self._file_lock = _locks_for(self._path)

    @classmethod
    def default(cls) -> TokenStore:
        """``$HARNESS_TOKEN_STORE``, else ``tokens.json`` in the user cache directory."""
        override = os.environ.get(STORE_ENV_VAR)
        if override:
            return cls(override)
        return cls(Path(platformdirs.user_cache_dir("drchrono-harness")) / "tokens.json")

    @classmethod
    def in_memory(cls) -> TokenStore:
        return cls(None)

    @property
    def path(self) -> Path | None:
        return self._path

    def describe(self) -> str:
        return str(self._path) if self._path else "in-memory token store"

    # -- locking -------------------------------------------------------------------------------

    @contextlib.contextmanager
    def locked(self) -> Iterator[None]:
        """Hold the store against every other thread and process (reentrant)."""
        with self._thread_lock:
            if self._file_lock is None:
                yield
                return
            try:
                self._file_lock.acquire(timeout=self._lock_timeout_s)
            except filelock.Timeout:
                raise HarnessError(
                    f"Another harness process has held the token store lock "
                    f"{self._file_lock.lock_file} for over {self._lock_timeout_s:.0f} s.",
                    hint="Wait for it to finish, or stop it; if none is running, delete the "
                    ".lock file.",
                ) from None
            try:
                yield
            finally:
                self._file_lock.release()

    # -- reading and writing -------------------------------------------------------------------

    def get(self, key: TokenKey) -> StoredToken | None:
        return self._load().get(key_text(key))

    def all(self) -> list[StoredToken]:
        return list(self._load().values())

    def put(self, token: StoredToken) -> None:
        """Write ``token`` durably; returns only once it is on disk."""
        with self.locked():
            entries = self._load()
            entries[key_text(token.key)] = token
            self._save(entries)

    def delete(self, key: TokenKey) -> bool:
        with self.locked():
            entries = self._load()
            if entries.pop(key_text(key), None) is None:
                return False
            self._save(entries)
            return True

    def _load(self) -> dict[str, StoredToken]:
        if self._path is None:
            return dict(self._memory)
        try:
            return _parse(self._read_bytes())
        except _CorruptStore as err:
            with self.locked():
                try:  # another process may have repaired it meanwhile
                    return _parse(self._read_bytes())
                except _CorruptStore:
                    self._quarantine(str(err))
                    return {}

    def _read_bytes(self) -> bytes | None:
        assert self._path is not None
        try:
            return self._path.read_bytes()
        except FileNotFoundError:
            return None
        except OSError as err:
            raise HarnessError(
                f"Cannot read the token store {self._path}: {err.strerror}.",
                hint=f"Fix its permissions, or point {STORE_ENV_VAR} / --token-store elsewhere.",
            ) from None

    def _quarantine(self, reason: str) -> None:
        assert self._path is not None
        stamp = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime())
        aside = self._path.with_name(f"{self._path.name}.corrupt-{stamp}")
        os.replace(self._path, aside)
        message = (
            f"The token store {self._path} was unreadable ({reason}); it was moved aside to "
            f"{aside} and a new store was started. If it held your only refresh token, run "
            "`harness auth login` or set DRCHRONO_REFRESH_TOKEN."
        )
        self.warnings.append(message)
        log.warning(message)

    def _save(self, entries: dict[str, StoredToken]) -> None:
        if self._path is None:
            self._memory = dict(entries)
            return
        document = {
            "version": STORE_VERSION,
            "tokens": {k: v.to_json() for k, v in sorted(entries.items())},
        }
        data = (json.dumps(document, indent=2, sort_keys=True) + "\n").encode("utf-8")
        # Dead writers' temp files stay until below: one may hold a refresh result to recover.
        atomic_write_bytes(self._path, data, remove_stale=False)
        if not any(e.pending for e in entries.values()):
            # With the lock held no write is in progress, so a temp file is a dead process's
            # leftover; with a pending marker it may still hold a refresh result to recover.
            for tmp in self._path.parent.glob(f".{self._path.name}.*.tmp"):
                with contextlib.suppress(OSError):
                    tmp.unlink()

    def recover_interrupted(self, key: TokenKey) -> StoredToken | None:
        """After a crash mid-write, adopt a complete temp file that finished the pending refresh.

        Call with the lock held. Returns the recovered entry, or None. Stale temp files are removed.
        """
        if self._path is None:
            return None
        current = self.get(key)
        recovered: StoredToken | None = None
        for tmp in sorted(self._path.parent.glob(f".{self._path.name}.*.tmp")):
            if current is not None and current.pending is not None and recovered is None:
                try:
                    candidate = _parse(tmp.read_bytes()).get(key_text(key))
                except (_CorruptStore, OSError):
                    candidate = None
                if (
                    candidate is not None
                    and candidate.pending is None
                    and candidate.rotated_from_sha256 == current.pending.refresh_token_sha256
                ):
                    recovered = candidate
            with contextlib.suppress(OSError):
                tmp.unlink()
        if recovered is not None:
            self.put(recovered)
            log.warning(
                "Recovered the token set %r from a store write that was interrupted.",
                recovered.token_name,
            )
        return recovered


def _parse(raw: bytes | None) -> dict[str, StoredToken]:
    if raw is None:
        return {}
    try:
        document = json.loads(raw.decode("utf-8"))
        if not isinstance(document, dict) or not isinstance(document.get("tokens"), dict):
            raise ValueError("not a token store document")
        version = document.get("version")
        if version != STORE_VERSION:
            raise ValueError(f"unknown store version {version!r}")
        return {k: StoredToken.from_json(v) for k, v in document["tokens"].items()}
    except (UnicodeDecodeError, ValueError, TypeError) as err:
        raise _CorruptStore(
            type(err).__name__ if isinstance(err, TypeError) else str(err)[:80]
        ) from None


_REGISTRY_LOCK = threading.Lock()
_LOCKS: dict[Path, tuple[threading.RLock, filelock.BaseFileLock]] = {}


def _locks_for(path: Path) -> tuple[threading.RLock, filelock.BaseFileLock]:
    """One thread lock and one file lock object per store file in this process.

    Sharing the FileLock object matters: flock() held through one descriptor blocks a second
    descriptor of the same process, so two objects for one path would deadlock on re-entry.
    """
    resolved = path.resolve()
    with _REGISTRY_LOCK:
        if resolved not in _LOCKS:
            resolved.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
            lock_file = resolved.with_name(resolved.name + ".lock")
            _LOCKS[resolved] = (
                threading.RLock(),
                filelock.FileLock(str(lock_file), mode=0o600, thread_local=False),
            )
        return _LOCKS[resolved]
