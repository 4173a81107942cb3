"""The OAuth 2.0 settings of a Postman collection, validated once.

Postman stores an ``oauth2`` auth block as a list of ``{key, value}`` attributes; after variable
resolution the runner hands us that list flattened to a dict of strings. This module turns it into
an immutable :class:`OAuth2Settings` and refuses anything that cannot work (a missing token URL, an
unresolved ``{{variable}}``, credentials about to be sent over plain HTTP) before any traffic.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from harness.errors import InputError, MissingClientCredentialsError
from harness.http_headers import check_header
from harness.loopback import is_loopback_host
from harness.oauth_attributes import TokenPlacement


class GrantType(str, enum.Enum):
    AUTHORIZATION_CODE = "authorization_code"
    AUTHORIZATION_CODE_PKCE = "authorization_code_with_pkce"
    CLIENT_CREDENTIALS = "client_credentials"
    PASSWORD = "password"
    IMPLICIT = "implicit"

    @property
    def is_interactive(self) -> bool:
        """Grants whose first token needs a person in a browser (``harness auth login``)."""
        return self in (GrantType.AUTHORIZATION_CODE, GrantType.AUTHORIZATION_CODE_PKCE)


class ClientAuthentication(str, enum.Enum):
    BASIC_HEADER = "header"  # Postman's "Send as Basic Auth header" (its default)
    BODY = "body"  # "Send client credentials in body"


_TRUE = {"true", "1", "yes", "on"}
_DEFAULT_TOKEN_NAME = "default"


def require_secure_url(url: str, what: str) -> None:
    """Refuse to send credentials to ``url`` unless it is HTTPS or loopback HTTP."""
    parts = urlsplit(url)
    if parts.scheme == "https" and parts.hostname:
        return
    if parts.scheme == "http" and is_loopback_host(parts.hostname):
        return
    raise InputError(
        f"Refusing to send OAuth credentials to the {what} {url!r}: it is not HTTPS "
        "(plain HTTP is allowed only to 127.0.0.1, ::1 or localhost).",
        hint="Change the URL in the collection's OAuth 2.0 settings or environment to https://.",
    )


def default_revoke_url(token_url: str) -> str:
    """django-oauth-toolkit serves revocation beside the token endpoint: /o/revoke_token/."""
    parts = urlsplit(token_url)
    path = parts.path
    if path.rstrip("/").endswith("/token"):
        path = path.rstrip("/")[: -len("token")] + "revoke_token/"
    else:
        path = "/o/revoke_token/"
    return urlunsplit((parts.scheme, parts.netloc, path, "", ""))


@dataclass(frozen=True)
class OAuth2Settings:
    """Everything the token engine needs; secrets are kept out of ``repr``."""

    grant_type: GrantType
    access_token_url: str
    client_id: str
    client_secret: str | None = field(default=None, repr=False)
    auth_url: str | None = None
    redirect_uri: str | None = None
    scope: str = ""
    token_name: str = _DEFAULT_TOKEN_NAME
    client_authentication: ClientAuthentication = ClientAuthentication.BASIC_HEADER
    placement: TokenPlacement = TokenPlacement()
    refresh_token_url: str | None = None
    revoke_token_url: str | None = None
    challenge_algorithm: str = "S256"
    use_browser: bool = True
    state: str | None = None
    username: str | None = None
    password: str | None = field(default=None, repr=False)
    refresh_token: str | None = field(default=None, repr=False)  # seed from the environment

    @property
    def uses_pkce(self) -> bool:
        # PKCE costs nothing and DrChrono accepts it, so the plain code grant uses it too.
        return self.grant_type.is_interactive

    @property
    def refresh_url(self) -> str:
        return self.refresh_token_url or self.access_token_url

    @property
    def revoke_url(self) -> str:
        return self.revoke_token_url or default_revoke_url(self.access_token_url)

    @property
    def scopes(self) -> list[str]:
        return self.scope.split()

    def check_transport(self) -> None:
        """Raise :class:`InputError` if any endpoint we would send credentials to is not safe."""
        require_secure_url(self.access_token_url, "access token URL")
        if self.refresh_token_url:
            require_secure_url(self.refresh_token_url, "refresh token URL")
        if self.revoke_token_url:
            require_secure_url(self.revoke_token_url, "revoke token URL")
        if self.auth_url:
            require_secure_url(self.auth_url, "authorization URL")

    @classmethod
    def from_postman(cls, params: Mapping[str, Any]) -> OAuth2Settings:
        """Build settings from a collection's resolved ``oauth2`` attributes."""
        values = {k: _text(v) for k, v in params.items() if _text(v) != ""}
        for key, value in values.items():
            if "{{" in value and "}}" in value:
                raise InputError(
                    f"The OAuth 2.0 setting {key!r} still contains an unresolved variable "
                    f"({_describe(key, value)}).",
                    hint="Define it in the environment file, with --env-var, or as a DRCHRONO_* "
                    "OS environment variable.",
                )

        grant_text = values.get("grant_type", GrantType.AUTHORIZATION_CODE.value)
        try:
            grant = GrantType(grant_text)
        except ValueError:
            raise InputError(
                f"Unknown OAuth 2.0 grant type {grant_text!r} in the collection's auth block.",
                hint="Use one of: " + ", ".join(g.value for g in GrantType) + ".",
            ) from None
        if grant is GrantType.IMPLICIT:
            raise InputError(
                "The collection asks for the OAuth 2.0 implicit grant, which hands the token to a "
                "browser only and cannot run unattended.",
                hint="Switch the collection's auth to 'Authorization Code (With PKCE)'.",
            )

        token_url = values.get("accessTokenUrl")
        client_id = values.get("clientId")
        missing = [
            name for name, v in (("accessTokenUrl", token_url), ("clientId", client_id)) if not v
        ]
        if grant is GrantType.CLIENT_CREDENTIALS and not values.get("clientSecret"):
            missing.append("clientSecret")
        if grant is GrantType.PASSWORD:
            missing += [k for k in ("username", "password") if not values.get(k)]
        if missing:
            # Every request of the block would fail alike: a set-up error, said once (exit 2).
            raise MissingClientCredentialsError(
                f"The collection's OAuth 2.0 settings ({grant.value}) lack: "
                + ", ".join(missing)
                + ".",
                hint="Set them in the collection's auth block or through variables "
                "(DRCHRONO_CLIENT_ID, DRCHRONO_CLIENT_SECRET, DRCHRONO_REFRESH_TOKEN).",
            )
        assert token_url is not None and client_id is not None

        settings = cls(
            grant_type=grant,
            access_token_url=token_url,
            client_id=client_id,
            client_secret=values.get("clientSecret"),
            auth_url=values.get("authUrl"),
            redirect_uri=values.get("redirect_uri") or values.get("callbackUrl"),
            scope=" ".join(values.get("scope", "").replace(",", " ").split()),
            token_name=values.get("tokenName", _DEFAULT_TOKEN_NAME),
            client_authentication=_choice(
                ClientAuthentication,
                values,
                "client_authentication",
                ClientAuthentication.BASIC_HEADER,
            ),
            placement=_placement(values, params),
            refresh_token_url=values.get("refreshTokenUrl"),
            revoke_token_url=values.get("revokeTokenUrl"),
            challenge_algorithm=_challenge(values.get("challengeAlgorithm", "S256")),
            use_browser=values.get("useBrowser", "true").lower() in _TRUE,
            state=values.get("state"),
            username=values.get("username"),
            password=values.get("password"),
            refresh_token=values.get("refreshToken"),
        )
        settings.check_transport()
        return settings


_SECRET_KEYS = {"clientSecret", "refreshToken", "password", "accessToken"}


def _describe(key: str, value: str) -> str:
    return "value hidden" if key in _SECRET_KEYS else repr(value)


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value).strip()


def _choice(kind: Any, values: Mapping[str, str], key: str, default: Any) -> Any:
    text = values.get(key)
    if text is None:
        return default
    try:
        return kind(text)
    except ValueError:
        allowed = ", ".join(repr(k.value) for k in kind)
        raise InputError(
            f"The OAuth 2.0 setting {key!r} is {text!r}; expected one of {allowed}."
        ) from None


def token_placement(params: Mapping[str, Any]) -> TokenPlacement:
    """Where a block's token goes (``addTokenTo``, ``headerPrefix``), for a token the block did
    not obtain itself: one stored in it, or one the run was given."""
    return _placement({k: _text(v) for k, v in params.items() if _text(v) != ""}, params)


def _placement(values: Mapping[str, str], params: Mapping[str, Any]) -> TokenPlacement:
    add_to = values.get("addTokenTo", "header")
    if add_to not in ("header", "queryParams"):
        raise InputError(
            f"The OAuth 2.0 setting 'addTokenTo' is {add_to!r}; expected one of 'header', "
            "'queryParams'."
        )
    # postman-runtime lib/authorizer/oauth2.js: "Bearer" only when headerPrefix is missing; an
    # empty one sends the bare token.
    given = params.get("headerPrefix")
    prefix = "Bearer" if given is None else _text(given).strip()
    check_header("Authorization", prefix, "the collection's OAuth 2.0 settings (headerPrefix)")
    return TokenPlacement(in_query=add_to == "queryParams", header_prefix=prefix)


def _challenge(text: str) -> str:
    upper = text.upper()
    if upper in ("S256", "SHA-256"):
        return "S256"
    if upper == "PLAIN":
        return "plain"
    raise InputError(
        f"The OAuth 2.0 setting 'challengeAlgorithm' is {text!r}; expected 'S256' or 'plain'."
    )
