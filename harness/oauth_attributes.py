"""A Postman ``oauth2`` auth block as the run uses it: resolving its attributes (once per
configuration, not per request) and where the token goes on each request.

The token engine (:mod:`harness.auth`) turns resolved attributes into settings; the sender needs
only the placement; ``harness auth`` needs the collection's block. All three use this module, which
imports no feature package.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Generic, TypeVar
from urllib.parse import urlencode, urlsplit

from harness.collection import Auth, Collection
from harness.errors import InputError, MissingClientCredentialsError
from harness.variables import Resolver, Scopes

ACCESS_TOKEN_PARAMETER = "access_token"
T = TypeVar("T")


@dataclass(frozen=True)
class TokenPlacement:
    """Postman's ``addTokenTo`` and ``headerPrefix``, applied as postman-runtime does: the query
    parameter is appended, and the header replaces any ``Authorization`` the request has."""

    in_query: bool = False
    header_prefix: str = "Bearer"  # "": the bare token (postman-runtime lib/authorizer/oauth2.js)

    def apply(
        self, url: str, headers: list[tuple[str, str]], token: str
    ) -> tuple[str, list[tuple[str, str]]]:
        """The URL and headers of a request that carries ``token``."""
        if self.in_query:
            query = urlencode({ACCESS_TOKEN_PARAMETER: token})
            return url + ("&" if "?" in url else "?") + query, headers
        kept = [(name, value) for name, value in headers if name.lower() != "authorization"]
        value = f"{self.header_prefix} {token}" if self.header_prefix else token
        return url, [*kept, ("Authorization", value)]


# The attributes that tell one configuration from another: those naming a token set (the token
# store's key), and the token Postman may have stored in the block (a script can change it).
KEY_ATTRIBUTES = ("tokenName", "clientId", "accessTokenUrl", "accessToken")
_WHERE = "the collection's OAuth 2.0 settings"

# DrChrono's hosts (the token endpoint answers on each of them).
DRCHRONO_HOSTS = ("drchrono.com", "app.drchrono.com", "www.drchrono.com")
# DrChrono's own API application, as the shipped collection's auth block configures it: its token
# name, and the variables (DRCHRONO_* OS variables, the sandbox's values) its client comes from.
# A block for DrChrono's token endpoint without a client of its own (what Postman's OpenAPI
# converter writes on every request) is completed with these, so that it shares the token set of
# `harness auth login` and of every other request of the run.
DRCHRONO_TOKEN_NAME = "DrChronoToken"
DRCHRONO_AUTH_BASE_URL = "https://drchrono.com"  # when no auth_base_url variable says otherwise


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
    return drchrono_app_attributes(attributes, scopes)


def names_drchrono_token_endpoint(url: str, scopes: Scopes) -> bool:
    """Whether ``url`` is DrChrono's token endpoint: on a DrChrono host, or the run target's own
    (``{{auth_base_url}}/o/token/``: the sandbox, or wherever the environment points)."""
    parts = urlsplit(url.strip())
    if (parts.hostname or "").lower() in DRCHRONO_HOSTS:
        return True
    base = _variable(scopes, "auth_base_url")
    if not base:
        return False
    target = urlsplit(f"{base.rstrip('/')}/o/token/")
    return (parts.scheme.lower(), parts.netloc.lower(), parts.path.rstrip("/")) == (
        target.scheme.lower(),
        target.netloc.lower(),
        target.path.rstrip("/"),
    )


def drchrono_app_attributes(attributes: Mapping[str, str], scopes: Scopes) -> dict[str, str]:
    """``attributes`` (resolved), completed with DrChrono's app when they name DrChrono's token
    endpoint but no client id; otherwise unchanged.

    The completed block uses the run's token endpoint (``{{auth_base_url}}/o/token/``, whichever
    DrChrono host the block named: both serve the same tokens) and the shipped collection's token
    name, so that every such block, the shipped collection and ``harness auth`` name ONE token set:
    one refresh for the whole run, and a rotated refresh token is never spent twice.
    """
    completed = dict(attributes)
    token_url = completed.get("accessTokenUrl", "").strip()
    if completed.get("clientId", "").strip() or not names_drchrono_token_endpoint(
        token_url, scopes
    ):
        return completed
    client_id = _variable(scopes, "client_id")
    if not client_id:
        raise MissingClientCredentialsError(
            f"The collection's OAuth 2.0 settings name DrChrono's token endpoint ({token_url}) "
            "but carry no client id, as Postman's OpenAPI converter writes them, and this run "
            "knows no DrChrono API application to use instead.",
            hint="Set DRCHRONO_CLIENT_ID and DRCHRONO_CLIENT_SECRET (your app, from DrChrono's "
            "API management page) with a refresh token (DRCHRONO_REFRESH_TOKEN, or `harness auth "
            "login` once), or run with an access token obtained elsewhere "
            "(DRCHRONO_ACCESS_TOKEN); against the local sandbox nothing is needed "
            "(-e collections/sandbox.postman_environment.json).",
        )
    base = (_variable(scopes, "auth_base_url") or DRCHRONO_AUTH_BASE_URL).rstrip("/")
    completed.update(
        clientId=client_id, accessTokenUrl=f"{base}/o/token/", authUrl=f"{base}/o/authorize/"
    )
    if names_drchrono_token_endpoint(completed.get("refreshTokenUrl", ""), scopes):
        completed.pop("refreshTokenUrl")  # the refresh goes where the token came from
    defaults = {
        "clientSecret": _variable(scopes, "client_secret"),
        "tokenName": DRCHRONO_TOKEN_NAME,
        "redirect_uri": _variable(scopes, "redirect_uri"),
        "client_authentication": "body",  # as the shipped collection (DrChrono takes both)
    }
    for name, value in defaults.items():
        if value and not completed.get(name, "").strip():
            completed[name] = value
    return completed


def _variable(scopes: Scopes, name: str) -> str | None:
    """A variable's value with its own ``{{...}}`` resolved; None when nothing defines it."""
    value = scopes.lookup(name)
    if value is None:
        return None
    return Resolver(scopes).resolve(value, f"the variable {name!r}").strip() or None


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
