"""A Postman ``oauth2`` auth block as the run uses it: resolving its attributes (once per
configuration, not per request) and where the token goes on each request.

The token engine (:mod:`harness.auth`) turns resolved attributes into settings; the sender needs
only the placement; ``harness auth`` needs the collection's block. All three use this module, which
imports no feature package.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Generic, TypeVar
from urllib.parse import urlencode

from harness.collection import Auth, Collection
from harness.errors import InputError
from harness.variables import Resolver, Scopes

ACCESS_TOKEN_PARAMETER = "access_token"
T = TypeVar("T")


@dataclass(frozen=True)
class TokenPlacement:
    """Postman's ``addTokenTo`` and ``headerPrefix``, applied as postman-runtime does: the query
    parameter is appended, and the header replaces any ``Authorization`` the request has."""

    in_query: bool = False
    header_prefix: str = "Bearer"  # an empty prefix sends "Bearer", as Postman does

    def apply(
        self, url: str, headers: list[tuple[str, str]], token: str
    ) -> tuple[str, list[tuple[str, str]]]:
        """The URL and headers of a request that carries ``token``."""
        if self.in_query:
            query = urlencode({ACCESS_TOKEN_PARAMETER: token})
            return url + ("&" if "?" in url else "?") + query, headers
        kept = [(name, value) for name, value in headers if name.lower() != "authorization"]
        return url, [*kept, ("Authorization", f"{self.header_prefix or 'Bearer'} {token}")]


# The attributes that name a token set (the token store's key): a change in their values is a
# different configuration, with its own token manager.
KEY_ATTRIBUTES = ("tokenName", "clientId", "accessTokenUrl")
_WHERE = "the collection's OAuth 2.0 settings"


def resolve_oauth2_attributes(auth: Auth, resolver: Resolver) -> dict[str, str]:
    """The block's attributes with their variables resolved, as text (``None`` -> ``""``)."""
    return {
        name: "" if value is None else str(resolver.resolve_any(value, _WHERE))
        for name, value in auth.params.items()
    }


def collection_oauth2_attributes(collection: Collection, scopes: Scopes) -> dict[str, str]:
    """The OAuth 2.0 attributes ``harness auth`` acts on: the collection's block, else the first
    folder's or request's, resolved; the ``refresh_token`` variable fills a missing refreshToken."""
    auth = collection.auth
    if auth is None or auth.type != "oauth2":
        auth = next(
            (r.auth for r in collection.requests() if r.auth and r.auth.type == "oauth2"), None
        )
    if auth is None:
        raise InputError(
            f"{collection.source} configures no OAuth 2.0 auth (collection, folder or request).",
            hint="Set Authorization > OAuth 2.0 on the collection in Postman and export it again.",
        )
    attributes = resolve_oauth2_attributes(auth, Resolver(scopes))
    refresh = scopes.lookup("refresh_token")
    if refresh and not attributes.get("refreshToken"):
        attributes["refreshToken"] = refresh
    return attributes


class PerOAuth2Config(Generic[T]):
    """One ``T`` (a token manager) per OAuth 2.0 configuration of a run.

    A configuration is an auth block plus the values its :data:`KEY_ATTRIBUTES` resolve to now.
    Only those few are resolved per request; the block's other attributes (a dozen, some with
    ``{{$guid}}``) are resolved once, when ``create`` makes the configuration's ``T``. A hit is a
    dict read without a lock, so workers do not queue behind each other per request.
    """

    def __init__(self, create: Callable[[dict[str, str]], T]) -> None:
        self._create = create
        # The value keeps the block alive, so its id() is not reused by another block.
        self._made: dict[tuple[object, ...], tuple[Auth, T]] = {}
        self._lock = threading.Lock()

    def get(self, auth: Auth, resolver: Resolver) -> T:
        key = (id(auth),) + tuple(
            str(resolver.resolve_any(auth.params.get(name) or "", _WHERE))
            for name in KEY_ATTRIBUTES
        )
        made = self._made.get(key)
        if made is None:
            with self._lock:
                made = self._made.get(key)
                if made is None:
                    made = (auth, self._create(resolve_oauth2_attributes(auth, resolver)))
                    self._made[key] = made
        return made[1]
