"""Every OAuth 2.0 flow against the local DrChrono sandbox over real HTTP."""

from __future__ import annotations

import io
import logging
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from drchrono_sandbox import Sandbox, SandboxConfig
from harness.auth import OAuth2Settings, TokenEndpointError, TokenManager, TokenStore
from harness.auth.cli import login_command, logout_command, revoke_command, status_command
from harness.auth.login import login
from harness.build import BuiltRequest
from harness.errors import AuthError
from harness.redaction import SecretRegistry
from harness.sender import Sender


@pytest.fixture(scope="module")
def sb() -> Iterator[Sandbox]:
    with Sandbox(SandboxConfig(), port=0) as sandbox:
        yield sandbox


def params(sb: Sandbox, **extra: str) -> dict[str, str]:
    return {
        "grant_type": "authorization_code_with_pkce",
        "authUrl": f"{sb.base_url}/o/authorize/",
        "accessTokenUrl": f"{sb.base_url}/o/token/",
        "clientId": sb.client_id,
        "clientSecret": sb.client_secret,
        "redirect_uri": "http://127.0.0.1/callback",  # loopback without port: any free port
        "scope": "patients:read user:read",
        "tokenName": "sandbox",
        **extra,
    }


def make_manager(
    sb: Sandbox,
    store: TokenStore | None = None,
    *,
    seed: str | None = None,
    secrets: SecretRegistry | None = None,
    **extra: str,
) -> TokenManager:
    return TokenManager(
        OAuth2Settings.from_postman(params(sb, **extra)),
        store=store or TokenStore.in_memory(),
        client=httpx.Client(),
        secrets=secrets or SecretRegistry(),
        refresh_token=seed,
    )


def api_status(sb: Sandbox, token: str) -> int:
    response = httpx.get(
        f"{sb.base_url}/api/users/current",
        follow_redirects=True,
        headers={"Authorization": f"Bearer {token}"},
    )
    return response.status_code


def follow_in_place_of_a_browser(url: str) -> None:
    # The auto-approving sandbox redirects to our loopback callback; urllib plays the browser
    # (not httpx, whose request log would show the code in the callback URL, as a browser's
    # history does: that log is the browser's, not the harness's).
    with urllib.request.urlopen(url, timeout=10) as answer:
        assert answer.status == 200


def test_login_with_loopback_callback_then_api_call(sb: Sandbox, tmp_path: Path) -> None:
    store = TokenStore(tmp_path / "tokens.json")
    tokens = make_manager(sb, store)
    said: list[str] = []
    stored = login(tokens, open_url=follow_in_place_of_a_browser, say=said.append, timeout_s=20)
    assert stored.refresh_token and stored.scope.split() == ["patients:read", "user:read"]
    assert api_status(sb, tokens.access_token()) == 200
    assert any("code_challenge_method=S256" in line for line in said)
    # A second process reading the same store needs no login.
    assert (
        make_manager(sb, TokenStore(tmp_path / "tokens.json")).access_token() == stored.access_token
    )


def test_login_by_pasting_the_redirect_url(sb: Sandbox) -> None:
    tokens = make_manager(sb, redirect_uri="https://oauth.pstmn.io/v1/callback")
    said: list[str] = []

    def paste(prompt: str) -> str:
        url = next(line for line in said if line.startswith("http"))
        answer = httpx.get(url, follow_redirects=False)
        assert answer.status_code == 302
        return str(answer.headers["location"])

    stored = login(tokens, use_browser=False, read_line=paste, say=said.append)
    assert api_status(sb, stored.access_token or "") == 200


def test_login_by_pasting_a_bare_code(sb: Sandbox) -> None:
    tokens = make_manager(sb, redirect_uri="https://oauth.pstmn.io/v1/callback")
    said: list[str] = []

    def paste(prompt: str) -> str:
        url = next(line for line in said if line.startswith("http"))
        location = httpx.get(url).headers["location"]
        return parse_qs(urlsplit(location).query)["code"][0]

    stored = login(tokens, use_browser=False, read_line=paste, say=said.append)
    assert stored.refresh_token


def test_pasted_redirect_with_wrong_state_is_refused(sb: Sandbox) -> None:
    tokens = make_manager(sb, redirect_uri="https://oauth.pstmn.io/v1/callback")
    said: list[str] = []

    def paste(prompt: str) -> str:
        url = next(line for line in said if line.startswith("http"))
        location = httpx.get(url).headers["location"]
        return location.replace("state=", "state=forged")

    with pytest.raises(AuthError, match="state parameter does not match"):
        login(tokens, use_browser=False, read_line=paste, say=said.append)


def test_login_command_prints_status_without_tokens(sb: Sandbox, tmp_path: Path) -> None:
    out = io.StringIO()
    store = TokenStore(tmp_path / "tokens.json")
    assert (
        login_command(
            params(sb), store, out=out, open_url=follow_in_place_of_a_browser, timeout_s=20
        )
        == 0
    )
    entry = store.all()[0]
    text = out.getvalue()
    assert "patients:read user:read" in text and "Logged in" in text
    assert entry.access_token not in text and entry.refresh_token not in text  # type: ignore
    out = io.StringIO()
    status_command(params(sb), store, out=out)
    assert "expires in" in out.getvalue()
    assert logout_command(params(sb), store, out=io.StringIO()) == 0
    assert store.all() == []


def test_refresh_token_flow_non_interactive(sb: Sandbox) -> None:
    seed = sb.issue_refresh_token()
    store = TokenStore.in_memory()
    tokens = make_manager(
        sb, store, seed=seed, grant_type="authorization_code", authUrl="", redirect_uri=""
    )
    assert api_status(sb, tokens.access_token()) == 200
    rotated = store.all()[0].refresh_token
    assert rotated and rotated != seed  # the sandbox rotated it, like DrChrono


def test_reactive_refresh_after_401_through_the_sender(sb: Sandbox) -> None:
    tokens = make_manager(sb, seed=sb.issue_refresh_token())
    first = tokens.access_token()
    sb.expire_access_tokens()  # the server forgets it; our clock still says valid
    sb.reset_request_counts()
    with httpx.Client(follow_redirects=True) as api:
        sender = Sender(api)
        for _ in range(2):
            exchange = sender.send(BuiltRequest("GET", f"{sb.base_url}/api/users/current"), tokens)
            assert exchange.response is not None and exchange.response.status_code == 200
    assert sb.request_count("/o/token/") == 1
    assert tokens.access_token() != first
    assert tokens.refresh_after_401(first) == tokens.access_token()  # a late worker: no refresh
    assert sb.request_count("/o/token/") == 1


def sent_with(tokens: TokenManager, url: str) -> httpx.Request:
    """The request the sender puts on the wire for ``url`` with ``tokens`` (answered 200)."""
    seen: list[httpx.Request] = []

    def answer(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, json={})

    with httpx.Client(transport=httpx.MockTransport(answer)) as api:
        Sender(api).send(BuiltRequest("GET", url), tokens)
    return seen[0]


def test_token_in_query_parameter_or_header_with_the_collections_prefix(sb: Sandbox) -> None:
    tokens = make_manager(sb, seed=sb.issue_refresh_token(), addTokenTo="queryParams")
    sent = sent_with(tokens, f"{sb.base_url}/api/users/current?x=1")
    assert sent.url.params["x"] == "1"
    assert sent.url.params["access_token"] == tokens.access_token()
    assert "authorization" not in sent.headers
    tokens = make_manager(sb, seed=sb.issue_refresh_token(), headerPrefix="Token")
    sent = sent_with(tokens, f"{sb.base_url}/api/users/current")
    assert sent.headers["Authorization"] == f"Token {tokens.access_token()}"


def test_client_credentials_grant(sb: Sandbox) -> None:
    tokens = make_manager(sb, grant_type="client_credentials")
    assert api_status(sb, tokens.access_token()) == 200


def test_invalid_grant_gives_one_instruction_and_no_secret(
    sb: Sandbox, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    seed = sb.issue_refresh_token()
    sb.revoke(seed)
    secrets = SecretRegistry()
    tokens = make_manager(sb, seed=seed, secrets=secrets)
    with pytest.raises(TokenEndpointError) as err:
        tokens.access_token()
    message = str(err.value)
    assert err.value.error_code == "invalid_grant"
    assert "harness auth login" in message and "rotates" in message
    chained = err.value.__context__ is not None and not err.value.__suppress_context__
    assert err.value.__cause__ is None and not chained
    assert seed not in message and seed not in caplog.text
    assert sb.client_secret not in message and sb.client_secret not in caplog.text


@pytest.mark.parametrize("how", ["header", "body"])
def test_invalid_client_names_the_variables_never_the_values(sb: Sandbox, how: str) -> None:
    tokens = make_manager(
        sb,
        seed=sb.issue_refresh_token(),
        clientSecret="wrong-secret-value",
        client_authentication=how,
    )
    with pytest.raises(TokenEndpointError) as err:
        tokens.access_token()
    message = str(err.value)
    assert err.value.error_code == "invalid_client"
    assert "DRCHRONO_CLIENT_SECRET" in message
    assert "wrong-secret-value" not in message and sb.client_id not in message


def test_revoke_kills_both_tokens_and_forgets_them(sb: Sandbox, tmp_path: Path) -> None:
    store = TokenStore(tmp_path / "tokens.json")
    tokens = make_manager(sb, store, seed=sb.issue_refresh_token())
    access = tokens.access_token()
    refresh = store.all()[0].refresh_token
    out = io.StringIO()
    assert revoke_command(params(sb), store, out=out) == 0  # a fresh manager, as the CLI does
    assert "Revoked the refresh token and access token" in out.getvalue()
    assert store.all() == []
    assert api_status(sb, access) == 401
    with pytest.raises(TokenEndpointError, match="invalid_grant"):
        make_manager(sb, seed=refresh).access_token()


def test_secrets_stay_out_of_logs_during_a_whole_lifecycle(
    sb: Sandbox, caplog: pytest.LogCaptureFixture, tmp_path: Path
) -> None:
    caplog.set_level(logging.DEBUG)
    secrets = SecretRegistry()
    store = TokenStore(tmp_path / "tokens.json")
    tokens = make_manager(sb, store, secrets=secrets)
    login(
        tokens, open_url=follow_in_place_of_a_browser, say=logging.getLogger("t").info, timeout_s=20
    )
    first = tokens.access_token()
    tokens.refresh_after_401(first)
    tokens.refresh()
    tokens.revoke()
    registered = secrets.values()
    assert sb.client_secret in registered and first in registered
    assert len(registered) >= 6  # client secret, code, three access and refresh tokens
    assert secrets.find_in(caplog.text) == []


def test_auth_cli_resolves_the_collections_settings_without_the_run_machinery(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from harness import paths
    from harness.cli import main

    monkeypatch.delenv("DRCHRONO_REFRESH_TOKEN", raising=False)
    args = ["--collection", str(paths.DEFAULT_COLLECTION), "--token-store", str(tmp_path / "t")]
    variables = {
        "auth_base_url": "https://auth.example",
        "client_id": "cid",
        "client_secret": "secret-value",
        "redirect_uri": "http://127.0.0.1/cb",
    }
    for name, value in variables.items():
        args += ["--env-var", f"{name}={value}"]
    assert main(["auth", "status", *args]) == 0
    out = capsys.readouterr().out
    assert "DrChronoToken" in out and "https://auth.example/o/token/" in out
    assert "secret-value" not in out
    assert main(["auth", "status", *args, "--env-var", "no-equals-sign"]) == 2
    assert "'no-equals-sign' is not of the form NAME=VALUE" in capsys.readouterr().err
