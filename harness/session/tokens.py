"""Token sources of a run: which token store, one ``TokenManager`` per token set.

The only place a run creates token managers: the run's own (one per token set, whatever number of
auth blocks name it, backed by the store the target calls for) and those of scenario steps that
bring their own refresh token (an in-memory store each, so they never replace the run's stored
tokens). A token the run is given (``DRCHRONO_ACCESS_TOKEN``) or that a block stores
(``accessToken``) is sent as it is, with no manager.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING

from harness.collection import Auth, Collection
from harness.oauth_attributes import (
    PerOAuth2Config,
    TokenPlacement,
    drchrono_app_attributes,
    resolve_oauth2_attributes,
)
from harness.redaction import SecretRegistry
from harness.sender import TokenSource
from harness.session.transports import Transports
from harness.variables import Resolver, Scopes, placeholders

if TYPE_CHECKING:
    from harness.auth import TokenManager, TokenStore
    from harness.auth.given_token import GivenAccessToken

# The harness's own cassettes (token traffic). User names map to stems of [a-z0-9-] only, so no
# folder or scenario, whatever it is called, can map onto one of these.
OAUTH_CASSETTE = "_oauth"
SCENARIO_AUTH_CASSETTE = "_scenario_auth"
# The value of an oauth2 block's variables a run with a given access token never sends.
NOT_NEEDED_WITH_ACCESS_TOKEN = "not-needed-with-a-given-access-token"


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
        access_token: tuple[str, str] | None = None,
    ) -> None:
        self.scopes = scopes
        self.secrets = secrets
        self.transports = transports
        self._store = _open_token_store(target, token_store)
        self._sources: PerOAuth2Config[TokenSource] = PerOAuth2Config(self._source_for)
        self._managers: dict[tuple[str, str, str], TokenManager] = {}  # by token set
        self._scenario_managers: dict[str, TokenSource] = {}
        self._lock = threading.Lock()
        self.given = _given_access_token(access_token, target, scopes)
        if self.given is not None:
            self.secrets.add(self.given.token)

    def tokens_for(self, auth: Auth, resolver: Resolver) -> TokenSource:
        return self._sources.get(auth, resolver)

    def _source_for(self, params: Mapping[str, str]) -> TokenSource:
        """The token source of one auth block's configuration (``params`` resolved)."""
        from harness.auth.given_token import stored_access_token
        from harness.auth.settings import token_placement

        for name in ("clientId", "clientSecret", "refreshToken", "accessToken"):
            self.secrets.add(params.get(name))
        if self.given is not None:  # the run's own token beats whatever the block holds
            return self.given.placed(token_placement(params))
        stored = params.get("accessToken", "").strip()
        if stored:  # Postman's: the block's token, sent as it is
            return stored_access_token(stored, token_placement(params))
        return self._manager_for(drchrono_app_attributes(params, self.scopes))

    def _manager_for(self, params: Mapping[str, str]) -> TokenSource:
        """The run's one manager of the token set ``params`` name, where this block puts it."""
        from harness.auth import OAuth2Settings, TokenManager

        self.secrets.add(params.get("clientSecret"))
        settings = OAuth2Settings.from_postman(params)
        key = (settings.token_name, settings.client_id, settings.access_token_url)
        with self._lock:
            manager = self._managers.get(key)
            if manager is None:
                refresh = self.scopes.lookup("refresh_token")
                self.secrets.add(refresh)
                manager = TokenManager(
                    settings,
                    store=self._store,
                    # One client (so one _oauth cassette writer) for all the run's token managers.
                    client=self.transports.internal_client(OAUTH_CASSETTE),
                    secrets=self.secrets,
                    refresh_token=refresh or None,
                )
                self._managers[key] = manager
        if manager.placement == settings.placement:
            return manager
        return PlacedTokens(manager, settings.placement)

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
                params = drchrono_app_attributes(
                    resolve_oauth2_attributes(auth, resolver), run.scopes
                )
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


class PlacedTokens:
    """A token manager shared by several auth blocks, seen from one that puts the token
    elsewhere (``addTokenTo``, ``headerPrefix``)."""

    def __init__(self, manager: TokenManager, placement: TokenPlacement) -> None:
        self.manager = manager
        self.placement = placement

    def access_token(self) -> str:
        return self.manager.access_token()

    def refresh_after_401(self, rejected: str) -> str:
        return self.manager.refresh_after_401(rejected)

    def status(self) -> dict[str, object]:
        return self.manager.status()


def _given_access_token(
    option: tuple[str, str] | None, target: str, scopes: Scopes
) -> GivenAccessToken | None:
    """The token the run was given: the option's, else ``DRCHRONO_ACCESS_TOKEN`` for live runs
    (a shell's live token must not steer the sandbox or a replay, like other DRCHRONO_*)."""
    from harness.auth.given_token import ACCESS_TOKEN_VARIABLE, external_access_token

    if option is not None:
        return external_access_token(*option)
    token = (scopes.os_environ.get(ACCESS_TOKEN_VARIABLE) or "").strip()
    if target == "live" and token:
        return external_access_token(token, ACCESS_TOKEN_VARIABLE)
    return None


def fill_unneeded_oauth2_variables(collection: Collection, scopes: Scopes) -> None:
    """With a given access token no oauth2 block obtains one, so the variables those blocks name
    (client_id, client_secret... which a CI shard does not hold) get a stand-in that is never
    sent, as a replay gives them."""
    names = {
        name
        for item in collection.requests()
        if item.auth is not None and item.auth.type == "oauth2"
        for value in item.auth.params.values()
        for name in placeholders(str(value))
    }
    for name in names:
        if not name.startswith("$") and scopes.lookup(name) is None:
            scopes.environment_overrides[name] = NOT_NEEDED_WITH_ACCESS_TOKEN


def _open_token_store(target: str, token_store: Path | None) -> TokenStore:
    from harness.auth import TokenStore

    if target in ("replay", "sandbox") and token_store is None:
        # A fresh sandbox or a cassette must never read or rotate a user's real tokens.
        return TokenStore.in_memory()
    if token_store is not None:
        return TokenStore(token_store)
    return TokenStore.default()
