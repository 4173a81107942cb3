"""TokenManager: hands out a valid access token, refreshing it safely when needed.

Every refresh happens under the store lock and follows the same steps, each of which can be
interrupted by a crash without losing the refresh token (see ``store.py``):

1. re-read the store: another thread or process may have refreshed already (then use theirs);
2. write a *pending* marker naming the refresh token about to be spent;
3. POST the refresh; register every token in the answer as a secret at once;
4. write the new token set (pending cleared) durably, and only then return the access token.

A refresh the server refused (an OAuth error such as invalid_grant) spent nothing, so its marker
is taken back. One whose outcome is unknown (no answer, HTTP 5xx, an unreadable 200) keeps it:
the server may have rotated the token. This process remembers which markers are its own such
failures, so it does not later warn that its own refresh "was interrupted".

When the token endpoint is down, :class:`~harness.auth.outage.EndpointOutage` stops every
request of the run from making its own token call.
"""

from __future__ import annotations

import dataclasses
import logging
import os
import threading
import time
from collections.abc import Callable
from typing import Any

import httpx

from harness.auth.outage import EndpointOutage
from harness.auth.protocol import (
    TokenRequest,
    TokenResponse,
    parse_token_response,
    revoke_request,
    token_error,
    token_request,
)
from harness.auth.settings import GrantType, OAuth2Settings, require_secure_url
from harness.auth.store import PendingRefresh, StoredToken, TokenKey, TokenStore, fingerprint
from harness.errors import (
    AuthError,
    HarnessError,
    MissingRefreshTokenError,
    TokenEndpointError,
)
from harness.oauth_attributes import TokenPlacement
from harness.redaction import SecretRegistry

log = logging.getLogger("harness.auth")

# A token obtained by a reactive refresh and rejected again this soon means refreshing will not
# help (wrong API host, wrong application): stop instead of rotating tokens in a loop.
_REACTIVE_REJECTION_WINDOW_S = 60.0


class TokenManager:
    """One collection's OAuth 2.0 tokens, shared by every thread of a run."""

    def __init__(
        self,
        settings: OAuth2Settings,
        *,
        store: TokenStore,
        client: httpx.Client,
        secrets: SecretRegistry,
        refresh_token: str | None = None,
        leeway_s: float = 300.0,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.settings = settings
        self._store = store
        self._client = client
        self._secrets = secrets
        self._seed = refresh_token or settings.refresh_token
        self._leeway_s = leeway_s
        self._clock = clock
        self._cached: StoredToken | None = None
        self._reactive: dict[str, float] = {}  # fingerprint of reactively issued token -> when
        self._guard = threading.Lock()
        self._outage = EndpointOutage()
        # Pending markers this manager left after a refresh with no clear answer: not a crash.
        self._unanswered: set[PendingRefresh] = set()
        # Refresh tokens (by fingerprint) the endpoint refused for good, with its answer: asking
        # again with the same token (another worker, the next request) cannot succeed.
        self._refused: dict[str, TokenEndpointError] = {}
        for value in (settings.client_secret, settings.password, self._seed):
            secrets.add(value)

    @property
    def placement(self) -> TokenPlacement:
        """Where the sender puts the access token on each request."""
        return self.settings.placement

    @property
    def key(self) -> TokenKey:
        s = self.settings
        return (s.token_name, s.client_id, s.access_token_url)

    # -- handing out tokens --------------------------------------------------------------------

    def access_token(self) -> str:
        """A token valid for at least the leeway; refreshes (once, across processes) if not."""
        cached = self._cached
        if cached is not None and self._is_fresh(cached):
            return _access(cached)
        with self._store.locked():
            current = self._current()
            if current is not None and self._is_fresh(current):
                self._cached = current
                return _access(current)
            return _access(self._obtain(current))

    def refresh_after_401(self, rejected: str) -> str:
        """The API refused ``rejected``: refresh, unless someone already replaced that token."""
        with self._store.locked():
            current = self._current()
            if (
                current is not None
                and current.access_token
                and current.access_token != rejected
                and self._is_usable(current)
            ):
                self._cached = current
                return current.access_token
            issued = self._reactive.get(fingerprint(rejected))
            if issued is not None and self._clock() - issued < _REACTIVE_REJECTION_WINDOW_S:
                raise AuthError(
                    "The API rejected (401) an access token the token endpoint "
                    f"{self.settings.access_token_url} had just issued, so refreshing again will "
                    "not help.",
                    hint="Check that the API base URL and the token URL belong to the same "
                    "DrChrono host and API application.",
                )
            log.info(
                "Access token for %r was rejected (401); refreshing.", self.settings.token_name
            )
            token = self._obtain(current)
            with self._guard:
                self._reactive[fingerprint(_access(token))] = self._clock()
            return _access(token)

    # -- interactive login and housekeeping ----------------------------------------------------

    def exchange_code(
        self, code: str, *, redirect_uri: str | None, code_verifier: str | None
    ) -> StoredToken:
        """Trade an authorization code for tokens and store them (``harness auth login``)."""
        self._secrets.add(code)
        request = token_request(
            self.settings,
            "authorization_code",
            code=code,
            redirect_uri=redirect_uri,
            code_verifier=code_verifier,
        )
        with self._store.locked():
            response = self._send(request)
            token = self._stored(response, source="login", previous_refresh=None)
            self._store.put(token)
            self._cached = token
            return token

    def refresh(self) -> StoredToken:
        """Refresh now, whatever the expiry (``harness auth refresh``)."""
        with self._store.locked():
            return self._obtain(self._current())

    def status(self) -> dict[str, Any]:
        """What a person may see about the stored token: never the token itself."""
        entry = self._reconcile(self._store.get(self.key))
        now = self._clock()
        status: dict[str, Any] = {
            "token_name": self.settings.token_name,
            "grant_type": self.settings.grant_type.value,
            "token_url": self.settings.access_token_url,
            "store": self._store.describe(),
            "has_access_token": bool(entry and entry.access_token),
            "has_refresh_token": bool((entry and entry.refresh_token) or self._seed),
            "refresh_token_source": (
                "store"
                if entry and entry.refresh_token and entry.source != "seed"
                else "environment"
                if self._seed
                else None
            ),
            "expires_at": None,
            "expires_in_s": None,
            "scopes": entry.scope.split() if entry else [],
            "obtained_at": None,
            "interrupted_refresh": bool(entry and entry.pending),
        }
        if entry is not None:
            if entry.expires_at is not None:
                status["expires_at"] = _iso(entry.expires_at)
                status["expires_in_s"] = int(entry.expires_at - now)
            if entry.obtained_at:
                status["obtained_at"] = _iso(entry.obtained_at)
        return status

    def revoke(self) -> list[str]:
        """Revoke the stored tokens at the server, then forget them. Returns what was revoked."""
        revoked: list[str] = []
        with self._store.locked():
            entry = self._current()
            if entry is not None:
                for hint, value in (
                    ("refresh_token", entry.refresh_token),
                    ("access_token", entry.access_token),
                ):
                    if value:
                        self._revoke_one(value, hint)
                        revoked.append(hint)
            self._store.delete(self.key)
            self._cached = None
        return revoked

    def logout(self) -> bool:
        """Forget the stored tokens locally (no server call)."""
        with self._store.locked():
            self._cached = None
            return self._store.delete(self.key)

    # -- internals -----------------------------------------------------------------------------

    def _current(self) -> StoredToken | None:
        """The store's entry for our key, reconciled with the environment's seed token."""
        return self._reconcile(self._store.get(self.key))

    def _reconcile(self, entry: StoredToken | None) -> StoredToken | None:
        if entry is not None:
            for value in (entry.access_token, entry.refresh_token):
                self._secrets.add(value)
        seed = self._seed
        if entry is None or seed is None:
            return entry
        seed_fp = fingerprint(seed)
        if entry.seed_sha256 == seed_fp or (
            entry.refresh_token is not None and fingerprint(entry.refresh_token) == seed_fp
        ):
            return entry  # the store holds the seed or a newer, rotated descendant of it
        log.info(
            "The environment's refresh token differs from the one the stored token set "
            "descends from (the user authorized again): using the environment's."
        )
        return self._from_seed()

    def _from_seed(self) -> StoredToken:
        assert self._seed is not None
        s = self.settings
        return StoredToken(
            token_name=s.token_name,
            client_id=s.client_id,
            token_url=s.access_token_url,
            refresh_token=self._seed,
            source="seed",
            seed_sha256=fingerprint(self._seed),
        )

    def _lifetime_leeway(self, token: StoredToken) -> float:
        # A token that lives less than twice the leeway would otherwise be refreshed on every use.
        if token.expires_at is None or not token.obtained_at:
            return self._leeway_s
        return min(self._leeway_s, max(0.0, (token.expires_at - token.obtained_at) / 2))

    def _is_fresh(self, token: StoredToken) -> bool:
        if not token.access_token or token.pending is not None:
            return False
        left = token.expires_in(self._clock())
        return left is None or left > self._lifetime_leeway(token)

    def _is_usable(self, token: StoredToken) -> bool:
        left = token.expires_in(self._clock())
        return bool(token.access_token) and (left is None or left > 0)

    def _obtain(self, current: StoredToken | None) -> StoredToken:
        """Get a new token set with whatever grant is possible. Call with the lock held."""
        self._outage.check()  # before any pending marker is written: nothing will be sent
        refresh = current.refresh_token if current and current.refresh_token else None
        if refresh is None and self._seed and current is None:
            current, refresh = self._from_seed(), self._seed
        if refresh is not None:
            return self._refresh(current, refresh)
        grant = self.settings.grant_type
        if grant is GrantType.CLIENT_CREDENTIALS:
            request = token_request(
                self.settings, "client_credentials", scope=self.settings.scope or None
            )
        elif grant is GrantType.PASSWORD:
            request = token_request(
                self.settings,
                "password",
                username=self.settings.username,
                password=self.settings.password,
                scope=self.settings.scope or None,
            )
        else:
            raise MissingRefreshTokenError(
                f"No refresh token is available for the OAuth 2.0 token {self.settings.token_name!r}"
                f" (store: {self._store.describe()}), so no access token can be obtained without "
                "a person.",
                hint="Run `harness auth login` once on a machine with a browser, or set "
                "DRCHRONO_REFRESH_TOKEN (CI) to a refresh token of this API application, or run "
                "with an access token obtained elsewhere (DRCHRONO_ACCESS_TOKEN).",
            )
        token = self._stored(self._send(request), source=grant.value, previous_refresh=None)
        self._store.put(token)
        self._cached = token
        return token

    def _refresh(self, current: StoredToken | None, refresh_token: str) -> StoredToken:
        s = self.settings
        refused = self._refused.get(fingerprint(refresh_token))
        if refused is not None:
            raise refused
        base = current or self._from_seed()
        interrupted = base.pending
        if interrupted is not None:
            recovered = self._store.recover_interrupted(self.key)
            if recovered is not None:
                self._reconcile(recovered)
                if self._is_fresh(recovered):
                    self._cached = recovered
                    return recovered
                base, interrupted = recovered, None
                refresh_token = recovered.refresh_token or refresh_token
            elif interrupted in self._unanswered:
                log.info(
                    "Retrying the refresh of %r that got no clear answer at %s.",
                    s.token_name,
                    _iso(interrupted.started_at),
                )
            else:
                log.warning(
                    "A previous refresh of %r (started %s by process %d) was interrupted; "
                    "retrying with the last stored refresh token.",
                    s.token_name,
                    _iso(interrupted.started_at),
                    interrupted.pid,
                )

        marker = PendingRefresh(
            started_at=self._clock(),
            refresh_token_sha256=fingerprint(refresh_token),
            pid=os.getpid(),
        )
        self._store.put(dataclasses.replace(base, pending=marker))

        request = token_request(s, "refresh_token", url=s.refresh_url, refresh_token=refresh_token)
        log.info("Refreshing the OAuth 2.0 token %r at %s.", s.token_name, request.url)
        try:
            response = self._send(request)
        except TokenEndpointError as err:
            # The server refused with an OAuth error: it issued nothing and spent nothing, so
            # take our marker back (an older, interrupted one stays: it may explain the error).
            self._store.put(base)
            refusal = err
            if interrupted is not None and err.error_code == "invalid_grant":
                how = (
                    "got no clear answer"
                    if interrupted in self._unanswered
                    else "was interrupted (the process died)"
                )
                refusal = TokenEndpointError(
                    f"{err.message} A refresh started at {_iso(interrupted.started_at)} {how} "
                    "after the request may have reached the server, which then rotated the "
                    "refresh token; the new one was never stored.",
                    error_code=err.error_code,
                    hint=err.hint,
                )
            if refusal.credentials_refused:
                with self._guard:
                    self._refused[fingerprint(refresh_token)] = refusal
            raise refusal from None
        except AuthError:
            self._unanswered.add(marker)  # the outcome is unknown: the marker stays
            raise
        token = self._stored(
            response, source="refresh", previous_refresh=refresh_token, seed_sha256=base.seed_sha256
        )
        self._store.put(token)
        self._cached = token
        return token

    def _stored(
        self,
        response: TokenResponse,
        *,
        source: str,
        previous_refresh: str | None,
        seed_sha256: str | None = None,
    ) -> StoredToken:
        s = self.settings
        if seed_sha256 is None and self._seed is not None:
            # login or a first grant supersedes whatever seed the environment holds right now
            seed_sha256 = fingerprint(self._seed)
        return StoredToken(
            token_name=s.token_name,
            client_id=s.client_id,
            token_url=s.access_token_url,
            access_token=response.access_token,
            token_type=response.token_type,
            expires_at=response.expires_at,
            scope=response.scope,
            # A server that does not rotate answers without a refresh token: keep ours.
            refresh_token=response.refresh_token or previous_refresh,
            obtained_at=response.obtained_at,
            source=source,
            seed_sha256=seed_sha256,
            rotated_from_sha256=fingerprint(previous_refresh) if previous_refresh else None,
        )

    def _post(self, request: TokenRequest) -> httpx.Response:
        try:
            require_secure_url(request.url, "token endpoint")
        except HarnessError as err:
            raise AuthError(err.message, hint=err.hint) from None
        try:
            return self._client.post(
                request.url, content=request.body.encode("ascii"), headers=request.headers
            )
        except httpx.TransportError as err:
            raise AuthError(
                f"Could not reach the token endpoint {request.url} ({type(err).__name__}: "
                f"{self._secrets.redact(str(err))}).",
                hint="Check the network and the token URL, then run again; the stored refresh "
                "token was kept.",
            ) from None

    def _send(self, request: TokenRequest) -> TokenResponse:
        """POST a token request and read the answer: every token request goes through here."""
        try:
            response = self._post(request)
        except AuthError as err:
            self._outage.failed(err)
            raise
        try:
            parsed = parse_token_response(
                request, response.status_code, response.content, now=self._clock()
            )
        except TokenEndpointError as err:
            self._outage.answered()
            raise TokenEndpointError(
                self._secrets.redact(err.message), error_code=err.error_code, hint=err.hint
            ) from None
        except AuthError as err:
            redacted = AuthError(self._secrets.redact(err.message), hint=err.hint)
            if response.status_code >= 500:
                self._outage.failed(redacted)
            else:
                self._outage.answered()
            raise redacted from None
        self._outage.answered()
        self._secrets.add(parsed.access_token)
        self._secrets.add(parsed.refresh_token)
        return parsed

    def _revoke_one(self, token: str, hint: str) -> None:
        request = revoke_request(self.settings, token, hint)
        response = self._post(request)
        if response.status_code == 200:
            return  # RFC 7009 and DrChrono: 200, empty body
        try:
            data = response.json()
        except ValueError:
            data = None
        if isinstance(data, dict) and "error" in data:
            raise token_error(request, response.status_code, data)
        raise AuthError(
            f"The revocation endpoint {request.url} answered HTTP {response.status_code}.",
            hint="Check revokeTokenUrl, or revoke the app's access in DrChrono.",
        )


def _access(token: StoredToken) -> str:
    assert token.access_token is not None
    return token.access_token


def _iso(timestamp: float) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(timestamp))
