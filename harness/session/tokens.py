"""Token sources of a run: which token store, one ``TokenManager`` per OAuth configuration.

The only place a run creates token managers: the run's own (cached per configuration, backed by
the store the target calls for) and those of scenario steps that bring their own refresh token
(an in-memory store each, so they never replace the run's stored tokens).
"""

from __future__ import annotations

import threading
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING

from harness.collection import Auth
from harness.oauth_attributes import PerOAuth2Config, resolve_oauth2_attributes
from harness.redaction import SecretRegistry
from harness.sender import TokenSource
from harness.session.transports import Transports
from harness.variables import Resolver, Scopes

if TYPE_CHECKING:
    from harness.auth import TokenStore

# The harness's own cassettes (token traffic). User names map to stems of [a-z0-9-] only, so no
# folder or scenario, whatever it is called, can map onto one of these.
OAUTH_CASSETTE = "_oauth"
SCENARIO_AUTH_CASSETTE = "_scenario_auth"


class RunTokens:
    """A run's :class:`~harness.run_context.TokenProvider`."""

    def __init__(
        self,
        *,
        target: str,
        token_store: Path | None,
        scopes: Scopes,
        secrets: SecretRegistry,
        transports: Transports,
    ) -> None:
        self.scopes = scopes
        self.secrets = secrets
        self.transports = transports
        self._store = _open_token_store(target, token_store)
        self._managers: PerOAuth2Config[TokenSource] = PerOAuth2Config(self._new_manager)
        self._scenario_managers: dict[str, TokenSource] = {}
        self._lock = threading.Lock()

    def tokens_for(self, auth: Auth, resolver: Resolver) -> TokenSource:
        return self._managers.get(auth, resolver)

    def _new_manager(self, params: Mapping[str, str]) -> TokenSource:
        from harness.auth import OAuth2Settings, TokenManager

        for name in ("clientId", "clientSecret", "refreshToken"):
            self.secrets.add(params.get(name))
        refresh = self.scopes.lookup("refresh_token")
        self.secrets.add(refresh)
        return TokenManager(
            OAuth2Settings.from_postman(params),
            store=self._store,
            # One client (so one _oauth cassette writer) for all the run's token managers.
            client=self.transports.internal_client(OAUTH_CASSETTE),
            secrets=self.secrets,
            refresh_token=refresh or None,
        )

    def with_refresh_token(self, token: str) -> ScenarioTokens:
        return ScenarioTokens(self, token)


class ScenarioTokens:
    """Token sources for a scenario step's own refresh token (one manager per token)."""

    def __init__(self, run: RunTokens, refresh_token: str) -> None:
        self.run = run
        self.refresh_token = refresh_token

    def tokens_for(self, auth: Auth, resolver: Resolver) -> TokenSource:
        from harness.auth import OAuth2Settings, TokenManager, TokenStore

        run = self.run
        with run._lock:
            manager = run._scenario_managers.get(self.refresh_token)
            if manager is None:
                run.secrets.add(self.refresh_token)
                params = resolve_oauth2_attributes(auth, resolver)
                settings = OAuth2Settings.from_postman(
                    {
                        **params,
                        "tokenName": f"{params.get('tokenName', '')} (scenario token)",
                        "refreshToken": self.refresh_token,
                    }
                )
                # Its own in-memory token set: it must not replace the run's stored tokens.
                manager = TokenManager(
                    settings,
                    store=TokenStore.in_memory(),
                    client=run.transports.internal_client(SCENARIO_AUTH_CASSETTE),
                    secrets=run.secrets,
                    refresh_token=self.refresh_token,
                )
                run._scenario_managers[self.refresh_token] = manager
            return manager

    def with_refresh_token(self, token: str) -> ScenarioTokens:
        return ScenarioTokens(self.run, token)


def _open_token_store(target: str, token_store: Path | None) -> TokenStore:
    from harness.auth import TokenStore

    if target in ("replay", "sandbox") and token_store is None:
        # A fresh sandbox or a cassette must never read or rotate a user's real tokens.
        return TokenStore.in_memory()
    if token_store is not None:
        return TokenStore(token_store)
    return TokenStore.default()
