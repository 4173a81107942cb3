"""The OAuth 2.0 wire format, without I/O: what to send and how to read the answer.

Authlib supplies the standard pieces (authorization URL, PKCE challenge, token request body,
client authentication); this module adds what the harness needs on top: one immutable
:class:`TokenRequest`, and an answer parser that judges errors by the JSON ``error`` field (DrChrono's
oauthlib answers 400 or 401 depending on version) and turns them into one actionable sentence.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from typing import Any

from authlib.common.security import generate_token
from authlib.oauth2.auth import ClientAuth
from authlib.oauth2.rfc6749.parameters import prepare_grant_uri, prepare_token_request
from authlib.oauth2.rfc7009.parameters import prepare_revoke_token_request
from authlib.oauth2.rfc7636 import create_s256_code_challenge

from harness.auth.settings import ClientAuthentication, OAuth2Settings
from harness.errors import AuthError, TokenEndpointError

FORM = "application/x-www-form-urlencoded"
_LOGIN_HINT = (
    "Run `harness auth login` to authorize again, or set DRCHRONO_REFRESH_TOKEN to a fresh "
    "refresh token."
)


@dataclass(frozen=True)
class AuthorizationRequest:
    """The browser leg of the code grant: where to send the user and what to check on return."""

    url: str
    state: str = field(repr=False)
    redirect_uri: str | None
    code_verifier: str | None = field(default=None, repr=False)


def authorization_request(
    settings: OAuth2Settings, redirect_uri: str | None = None
) -> AuthorizationRequest:
    if not settings.auth_url:
        raise AuthError(
            "The collection's OAuth 2.0 settings have no authorization URL (authUrl), so "
            "`harness auth login` cannot send you to the consent page.",
            hint="Set authUrl (DrChrono: https://drchrono.com/o/authorize/).",
        )
    redirect = redirect_uri or settings.redirect_uri
    state = settings.state or generate_token(32)
    verifier: str | None = None
    extra: dict[str, str] = {}
    if settings.uses_pkce:
        verifier = generate_token(64)  # RFC 7636: 43..128 unreserved characters
        if settings.challenge_algorithm == "S256":
            extra = {
                "code_challenge": create_s256_code_challenge(verifier),
                "code_challenge_method": "S256",
            }
        else:
            extra = {"code_challenge": verifier, "code_challenge_method": "plain"}
    url = prepare_grant_uri(
        settings.auth_url,
        settings.client_id,
        "code",
        redirect_uri=redirect,
        scope=settings.scope or None,
        state=state,
        **extra,
    )
    return AuthorizationRequest(url=url, state=state, redirect_uri=redirect, code_verifier=verifier)


@dataclass(frozen=True)
class TokenRequest:
    """A ready POST to a token or revocation endpoint. ``repr`` hides the body and headers."""

    url: str
    grant: str  # "refresh_token", "authorization_code", ... or "revoke"
    body: str = field(repr=False)
    headers: dict[str, str] = field(repr=False)


def token_request(
    settings: OAuth2Settings, grant: str, *, url: str | None = None, **params: str | None
) -> TokenRequest:
    """Body and headers for ``grant`` with the collection's client authentication."""
    body = prepare_token_request(grant, **{k: v for k, v in params.items() if v})
    return _with_client_auth(settings, url or settings.access_token_url, grant, body)


def revoke_request(settings: OAuth2Settings, token: str, hint: str) -> TokenRequest:
    body, _ = prepare_revoke_token_request(token, token_type_hint=hint)
    return _with_client_auth(settings, settings.revoke_url, "revoke", body)


def _with_client_auth(settings: OAuth2Settings, url: str, grant: str, body: str) -> TokenRequest:
    method = (
        "client_secret_basic"
        if settings.client_authentication is ClientAuthentication.BASIC_HEADER
        and settings.client_secret
        else "client_secret_post"
    )
    if not settings.client_secret:
        method = "none"  # public client: client_id in the body only
    headers = {"Content-Type": FORM, "Accept": "application/json"}
    auth = ClientAuth(settings.client_id, settings.client_secret, method)
    _, headers, body = auth.prepare("POST", url, headers, body)
    return TokenRequest(url=url, grant=grant, body=body, headers=dict(headers))


@dataclass(frozen=True)
class TokenResponse:
    """A successful token endpoint answer. ``repr`` hides the tokens."""

    access_token: str = field(repr=False)
    token_type: str
    expires_at: float | None
    scope: str
    refresh_token: str | None = field(repr=False)
    obtained_at: float


def parse_token_response(
    request: TokenRequest, status: int, body: bytes, *, now: float | None = None
) -> TokenResponse:
    """Read a token endpoint answer; raise :class:`AuthError` with one instruction on failure."""
    now = time.time() if now is None else now
    data = _json_object(body)
    if data is not None and "error" in data:
        raise token_error(request, status, data)
    if status != 200 or data is None or not isinstance(data.get("access_token"), str):
        raise AuthError(
            f"The token endpoint {request.url} answered HTTP {status} without a token "
            f"(while doing {request.grant}).",
            hint="This is usually a temporary server problem: run again. If it persists, check "
            "accessTokenUrl in the collection's OAuth 2.0 settings.",
        )
    token_type = str(data.get("token_type") or "Bearer")
    expires_at: float | None = None
    expires_in = data.get("expires_in")
    if isinstance(expires_in, int | float | str) and str(expires_in).strip():
        try:
            expires_at = now + float(expires_in)
        except ValueError:
            expires_at = None
    refresh = data.get("refresh_token")
    return TokenResponse(
        access_token=data["access_token"],
        token_type=token_type,
        expires_at=expires_at,
        scope=str(data.get("scope") or ""),
        refresh_token=refresh if isinstance(refresh, str) and refresh else None,
        obtained_at=now,
    )


def token_error(request: TokenRequest, status: int, data: dict[str, Any]) -> TokenEndpointError:
    """The user's next step for an RFC 6749 section 5.2 error. Never echoes a credential."""
    code = str(data.get("error"))[:40]
    message, hint = _explain(request, status, code)
    return TokenEndpointError(message, error_code=code, hint=hint)


def _explain(request: TokenRequest, status: int, code: str) -> tuple[str, str]:
    where = f"The token endpoint {request.url} refused the {request.grant} request"
    if code == "invalid_client":
        return (
            f"{where} with invalid_client: the client id or client secret is wrong, or the "
            "application was deleted.",
            "Check DRCHRONO_CLIENT_ID and DRCHRONO_CLIENT_SECRET (or clientId/clientSecret "
            "in the environment) against the API application in DrChrono's API management page.",
        )
    if code == "invalid_grant" and request.grant == "refresh_token":
        return (
            f"{where} with invalid_grant: the refresh token is no longer valid. DrChrono "
            "rotates refresh tokens on every refresh, so it was used already (by another "
            "machine or an older copy), revoked, or issued to another application.",
            _LOGIN_HINT,
        )
    if code == "invalid_grant" and request.grant == "authorization_code":
        return (
            f"{where} with invalid_grant: the authorization code expired (codes live about 60 "
            "seconds), was used already, or the redirect URI differs from the registered one.",
            "Run `harness auth login` again and complete it promptly.",
        )
    if code == "invalid_scope":
        return (
            f"{where} with invalid_scope: a requested scope is not allowed.",
            "Check the scope setting of the collection's OAuth 2.0 auth.",
        )
    if code == "unsupported_grant_type" or code == "unauthorized_client":
        return (
            f"{where} with {code}: the API application is not allowed to use this grant.",
            "Pick the grant type the application is registered for (DrChrono: authorization code).",
        )
    return (
        f"{where} with HTTP {status} and error {code!r}.",
        "Check the collection's OAuth 2.0 settings.",
    )


def _json_object(body: bytes) -> dict[str, Any] | None:
    try:
        data = json.loads(body.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        return None
    return data if isinstance(data, dict) else None
