"""OAuth 2.0 endpoints as django-oauth-toolkit (oauthlib) serves them on drchrono.com.

``/o/authorize/`` (code flow with optional PKCE and a consent page), ``/o/token/``
(authorization_code, refresh_token with rotation, client_credentials) and ``/o/revoke_token/``
(200 with an empty body). Errors are ``{"error": ..., "error_description": ...}``.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import html
import secrets
from urllib.parse import parse_qsl, unquote_plus, urlencode, urlsplit, urlunsplit

from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from starlette.routing import Route

from drchrono_sandbox.context import SandboxContext
from drchrono_sandbox.openapi_ops import ALL_SCOPES
from drchrono_sandbox.state import AuthCode, Client

LOOPBACK_HOSTS = frozenset({"127.0.0.1", "localhost", "[::1]", "::1"})
GRANTS = frozenset({"authorization_code", "refresh_token", "client_credentials"})
NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache"}


def ctx_of(request: Request) -> SandboxContext:
    ctx: SandboxContext = request.app.state.ctx
    return ctx


async def form_of(request: Request) -> dict[str, str]:
    """Form fields of an urlencoded body (first value wins), without python-multipart."""
    body = (await request.body()).decode("utf-8", "replace")
    return dict(reversed(parse_qsl(body, keep_blank_values=True)))


def redirect_allowed(uri: str, registered: list[str]) -> bool:
    if uri in registered:
        return True
    asked = urlsplit(uri)
    if asked.scheme != "http" or asked.hostname not in LOOPBACK_HOSTS:
        return False
    for known in map(urlsplit, registered):
        # RFC 8252 7.3: a native app's loopback redirect may use any port.
        if (known.scheme, known.hostname, known.path) == ("http", asked.hostname, asked.path):
            return True
    return False


def with_query(uri: str, params: dict[str, str | None]) -> str:
    parts = urlsplit(uri)
    query = parse_qsl(parts.query, keep_blank_values=True)
    query += [(k, v) for k, v in params.items() if v is not None]
    return urlunsplit(parts._replace(query=urlencode(query)))


def parse_scopes(text: str | None) -> list[str] | None:
    """Requested scopes (omitted or empty: all of them); None when one is unknown."""
    if not text or not text.strip():
        return list(ALL_SCOPES)
    asked = text.replace(",", " ").split()
    if any(s not in ALL_SCOPES for s in asked):
        return None
    return list(dict.fromkeys(asked))


def error_page(status: int, message: str) -> HTMLResponse:
    return HTMLResponse(
        f"<!DOCTYPE html><html><head><title>Error</title></head><body><h2>Error: "
        f"{html.escape(message)}</h2></body></html>",
        status_code=status,
    )


def oauth_error(error: str, description: str, status: int = 400) -> JSONResponse:
    headers = dict(NO_STORE)
    if error == "invalid_client":
        headers["WWW-Authenticate"] = 'Basic realm="oauth"'
    return JSONResponse(
        {"error": error, "error_description": description}, status_code=status, headers=headers
    )


# -- authorize ------------------------------------------------------------------------------
async def authorize(request: Request) -> Response:
    ctx = ctx_of(request)
    posted = request.method == "POST"
    params = await form_of(request) if posted else dict(request.query_params)
    client = ctx.store.client(params.get("client_id"))
    if client is None:
        return error_page(400, "Invalid client_id parameter value.")
    redirect_uri = params.get("redirect_uri") or client.redirect_uris[0]
    if not redirect_allowed(redirect_uri, client.redirect_uris):
        return error_page(400, "Mismatching redirect URI.")
    state = params.get("state")

    def back(**values: str | None) -> RedirectResponse:
        return RedirectResponse(with_query(redirect_uri, {**values, "state": state}), 302)

    if params.get("response_type") != "code":
        return back(error="unsupported_response_type")
    scopes = parse_scopes(params.get("scope"))
    if scopes is None:
        return back(error="invalid_scope")
    challenge = params.get("code_challenge") or None
    method = (params.get("code_challenge_method") or "plain") if challenge else None
    if method not in (None, "plain", "S256"):
        return back(error="invalid_request", error_description="Transform algorithm not supported.")
    if posted and "allow" not in params:
        return back(error="access_denied")
    if not posted and not ctx.config.auto_approve:
        return consent_page(client, params, scopes)
    code = ctx.store.new_code(
        AuthCode(
            client_id=client.client_id,
            redirect_uri=redirect_uri,
            scopes=scopes,
            expires_at=ctx.store.clock() + ctx.config.code_ttl,
            code_challenge=challenge,
            code_challenge_method=method,
        )
    )
    return back(code=code)


def consent_page(client: Client, params: dict[str, str], scopes: list[str]) -> HTMLResponse:
    keep = (
        "client_id",
        "redirect_uri",
        "response_type",
        "state",
        "scope",
        "code_challenge",
        "code_challenge_method",
    )
    hidden = "".join(
        f'<input type="hidden" name="{k}" value="{html.escape(params[k], quote=True)}">'
        for k in keep
        if k in params
    )
    items = "".join(f"<li>{html.escape(s)}</li>" for s in scopes)
    return HTMLResponse(
        "<!DOCTYPE html><html><head><title>Authorize | DrChrono</title></head><body>"
        f"<h1>Authorize {html.escape(client.name)}?</h1>"
        f"<p>The application requires the following permissions:</p><ul>{items}</ul>"
        f'<form method="post" action="/o/authorize/">{hidden}'
        '<input type="submit" name="cancel" value="Cancel">'
        '<input type="submit" name="allow" value="Authorize">'
        "</form></body></html>"
    )


# -- token -------------------------------------------------------------------------------------
def client_credentials_of(request: Request, form: dict[str, str]) -> tuple[str | None, str | None]:
    header = request.headers.get("authorization", "")
    if header.lower().startswith("basic "):
        try:
            decoded = base64.b64decode(header[6:].strip(), validate=True).decode()
        except (binascii.Error, UnicodeDecodeError):
            return None, None
        user, _, password = decoded.partition(":")
        return unquote_plus(user), unquote_plus(password)
    return form.get("client_id"), form.get("client_secret")


def pkce_ok(code: AuthCode, verifier: str) -> bool:
    if code.code_challenge_method == "S256":
        hashed = hashlib.sha256(verifier.encode()).digest()
        expected = base64.urlsafe_b64encode(hashed).decode().rstrip("=")
    else:
        expected = verifier
    return secrets.compare_digest(expected, code.code_challenge or "")


async def token(request: Request) -> Response:
    ctx = ctx_of(request)
    form = await form_of(request)
    grant = form.get("grant_type")
    if not grant:
        return oauth_error("invalid_request", "Request is missing grant_type.")
    if grant not in GRANTS:
        return oauth_error("unsupported_grant_type", f"Grant type {grant!r} is not supported.")
    client_id, secret = client_credentials_of(request, form)
    client = ctx.store.authenticate_client(client_id, secret)
    if client is None:
        return oauth_error("invalid_client", "Client authentication failed.", 401)
    ttl = ctx.config.access_ttl

    if grant == "authorization_code":
        value = form.get("code")
        if not value:
            return oauth_error("invalid_request", "Missing code parameter.")
        code = ctx.store.take_code(value)
        if code is None or code.client_id != client.client_id:
            return oauth_error("invalid_grant", "Invalid, used or expired authorization code.")
        if form.get("redirect_uri", code.redirect_uri) != code.redirect_uri:
            return oauth_error("invalid_request", "Mismatching redirect URI.")
        if code.code_challenge:
            verifier = form.get("code_verifier")
            if not verifier:
                return oauth_error("invalid_request", "Code verifier required.")
            if not pkce_ok(code, verifier):
                return oauth_error("invalid_grant", "Code verifier does not match the challenge.")
        issued = ctx.store.issue(client.client_id, code.scopes, ttl, with_refresh=True)
    elif grant == "refresh_token":
        value = form.get("refresh_token")
        if not value:
            return oauth_error("invalid_request", "Missing refresh token parameter.")
        scopes = None
        if form.get("scope"):
            scopes = parse_scopes(form["scope"])
            if scopes is None:
                return oauth_error("invalid_scope", "Unknown scope requested.")
        # Within the grace period a spent token gets the same pair again; like
        # django-oauth-toolkit, expires_in still says the full lifetime.
        result = ctx.store.rotate(
            value, client.client_id, scopes, ttl, grace_s=ctx.config.refresh_grace_s
        )
        if result is None:
            return oauth_error("invalid_grant", "Invalid or revoked refresh token.")
        if isinstance(result, str):
            return oauth_error("invalid_scope", "Scope exceeds what was granted.")
        issued = result
    else:  # client_credentials
        scopes = parse_scopes(form.get("scope"))
        if scopes is None:
            return oauth_error("invalid_scope", "Unknown scope requested.")
        issued = ctx.store.issue(client.client_id, scopes, ttl, with_refresh=False)

    body: dict[str, object] = {
        "access_token": issued.access_token,
        "expires_in": ttl,
        "token_type": "Bearer",
        "scope": " ".join(issued.scopes),
    }
    if issued.refresh_token is not None:
        body["refresh_token"] = issued.refresh_token
    return JSONResponse(body, headers=NO_STORE)


async def revoke_token(request: Request) -> Response:
    ctx = ctx_of(request)
    form = await form_of(request)
    client_id, secret = client_credentials_of(request, form)
    client = ctx.store.authenticate_client(client_id, secret)
    if client is None:
        return oauth_error("invalid_client", "Client authentication failed.", 401)
    if form.get("token"):
        ctx.store.revoke(form["token"], client.client_id)
    # RFC 7009 / django-oauth-toolkit: 200 with an empty body, whether or not the token existed.
    return Response(b"", status_code=200, media_type="text/html; charset=utf-8")


routes = [
    Route("/o/authorize/", authorize, methods=["GET", "POST"]),
    Route("/o/token/", token, methods=["POST"]),
    Route("/o/revoke_token/", revoke_token, methods=["POST"]),
]
