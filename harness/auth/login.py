"""``harness auth login``: the authorization code grant with a person in the loop.

With a loopback redirect URI (``http://127.0.0.1:PORT/callback``) we listen on that port, open
the browser at the consent page and catch the redirect. With any other redirect URI (Postman's
``https://oauth.pstmn.io/v1/browser-callback``, a web site) or ``--no-browser``, we print the URL
and read the redirected URL, or the bare code, that the person pastes back.
"""

from __future__ import annotations

import http.server
import socket
import threading
import webbrowser
from collections.abc import Callable
from urllib.parse import parse_qsl, urlsplit, urlunsplit

from harness.auth.manager import TokenManager
from harness.auth.protocol import AuthorizationRequest, authorization_request
from harness.auth.store import StoredToken
from harness.errors import AuthError
from harness.loopback import is_loopback_host

DEFAULT_TIMEOUT_S = 300.0
_PAGE = (
    b"<!doctype html><title>harness</title><p>Authorization received. "
    b"You can close this tab and return to the terminal.</p>"
)


def loopback_redirect(redirect_uri: str | None) -> bool:
    if not redirect_uri:
        return False
    parts = urlsplit(redirect_uri)
    return parts.scheme == "http" and is_loopback_host(parts.hostname)


def login(
    manager: TokenManager,
    *,
    use_browser: bool = True,
    open_url: Callable[[str], object] = webbrowser.open,
    read_line: Callable[[str], str] = input,
    say: Callable[[str], object] = print,
    timeout_s: float = DEFAULT_TIMEOUT_S,
) -> StoredToken:
    """Authorize interactively and store the tokens. ``open_url`` is replaceable for tests."""
    settings = manager.settings
    if not settings.grant_type.is_interactive:
        raise AuthError(
            f"`harness auth login` is for the authorization code grant; this collection uses "
            f"{settings.grant_type.value}, which needs no login.",
            hint="Just run the collection: tokens are fetched automatically.",
        )
    redirect = settings.redirect_uri
    if use_browser and loopback_redirect(redirect):
        return _login_with_callback(manager, open_url, say, timeout_s)
    request = authorization_request(settings)
    say(
        "Open this URL in a browser, approve access, then paste the URL you were redirected to "
        "(or just the code):"
    )
    say(request.url)
    if use_browser:
        open_url(request.url)
    try:
        pasted = read_line("Redirected URL or code: ").strip()
    except EOFError:  # stdin is empty or /dev/null (a script, CI): nobody can paste anything
        raise AuthError(
            "No authorization code was pasted: standard input ended before one was read.",
            hint="Run `harness auth login` in a terminal, or pipe the redirected URL into it.",
        ) from None
    code = code_from_paste(pasted, request)
    return manager.exchange_code(
        code, redirect_uri=request.redirect_uri, code_verifier=request.code_verifier
    )


def code_from_paste(pasted: str, request: AuthorizationRequest) -> str:
    """Accept a full redirect URL (state checked) or a bare authorization code."""
    if not pasted:
        raise AuthError(
            "No authorization code was pasted.",
            hint="Run `harness auth login` again and paste the redirected URL.",
        )
    if "://" in pasted or pasted.startswith("?") or "code=" in pasted:
        query = urlsplit(pasted).query if "://" in pasted else pasted.lstrip("?")
        return code_from_params(dict(parse_qsl(query)), request)
    return pasted


def code_from_params(params: dict[str, str], request: AuthorizationRequest) -> str:
    if "error" in params:
        reason = params["error"][:40]
        raise AuthError(
            f"The authorization server answered the consent request with {reason!r}"
            + (" (access was denied in the browser)." if reason == "access_denied" else "."),
            hint="Run `harness auth login` again and approve access.",
        )
    if params.get("state") != request.state:
        raise AuthError(
            "The redirect's state parameter does not match the one this login sent, so the "
            "answer may belong to another login attempt (or a forged request) and was ignored.",
            hint="Run `harness auth login` again and use only the newest browser tab.",
        )
    code = params.get("code")
    if not code:
        raise AuthError(
            "The redirect carried no authorization code.", hint="Run `harness auth login` again."
        )
    return code


def _login_with_callback(
    manager: TokenManager,
    open_url: Callable[[str], object],
    say: Callable[[str], object],
    timeout_s: float,
) -> StoredToken:
    assert manager.settings.redirect_uri is not None
    server = CallbackServer(manager.settings.redirect_uri)
    with server:
        request = authorization_request(manager.settings, redirect_uri=server.redirect_uri)
        say(
            f"Opening the browser to authorize; waiting for the redirect on "
            f"{server.redirect_uri} ..."
        )
        say(f"If no browser opens, visit: {request.url}")
        open_url(request.url)
        params = server.wait(timeout_s)
    code = code_from_params(params, request)
    return manager.exchange_code(
        code, redirect_uri=request.redirect_uri, code_verifier=request.code_verifier
    )


class CallbackServer:
    """A one-shot HTTP server on loopback that catches the OAuth redirect."""

    def __init__(self, redirect_uri: str) -> None:
        parts = urlsplit(redirect_uri)
        host = (parts.hostname or "127.0.0.1").strip("[]")
        bind = "::1" if host == "::1" else "127.0.0.1"
        self._path = parts.path or "/"
        self._result: dict[str, str] | None = None
        self._done = threading.Event()
        handler = self._handler_class()
        server_class = _IPv6Server if bind == "::1" else http.server.HTTPServer
        try:
            self._server = server_class((bind, parts.port or 0), handler)
        except OSError as err:
            raise AuthError(
                f"Cannot listen on {bind}:{parts.port} for the OAuth redirect ({err.strerror}).",
                hint="Close the program using that port, or use --no-browser and paste the code.",
            ) from None
        port = self._server.server_address[1]
        netloc = f"[{host}]:{port}" if ":" in host else f"{host}:{port}"
        self.redirect_uri = urlunsplit((parts.scheme, netloc, parts.path, parts.query, ""))
        self._thread = threading.Thread(
            target=self._server.serve_forever, daemon=True, name="oauth-callback"
        )

    def __enter__(self) -> CallbackServer:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)

    def wait(self, timeout_s: float) -> dict[str, str]:
        if not self._done.wait(timeout_s) or self._result is None:
            raise AuthError(
                f"No browser redirect reached {self.redirect_uri} within {timeout_s:.0f} s.",
                hint="Run `harness auth login` again, or use --no-browser and paste the code.",
            )
        return self._result

    def _handler_class(self) -> type[http.server.BaseHTTPRequestHandler]:
        owner = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 (http.server's naming)
                parts = urlsplit(self.path)
                params = dict(parse_qsl(parts.query))
                if parts.path != owner._path or not ({"code", "error"} & params.keys()):
                    self.send_response(404)
                    self.end_headers()
                    return
                self.send_response(200)
                self.send_header("Content-Type", "text/html; charset=utf-8")
                self.send_header("Content-Length", str(len(_PAGE)))
                self.end_headers()
                self.wfile.write(_PAGE)
                if not owner._done.is_set():
                    owner._result = params
                    owner._done.set()

            def log_message(self, format: str, *args: object) -> None:
                pass  # the request line carries the authorization code: never log it

        return Handler


class _IPv6Server(http.server.HTTPServer):
    address_family = socket.AF_INET6
