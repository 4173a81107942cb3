"""OAuth2Settings validation and the pure protocol layer (no network)."""

from __future__ import annotations

import base64
import hashlib
from urllib.parse import parse_qs, urlsplit

import pytest

from harness.auth import GrantType, OAuth2Settings, TokenEndpointError
from harness.auth.protocol import (
    authorization_request,
    parse_token_response,
    revoke_request,
    token_request,
)
from harness.auth.settings import ClientAuthentication, default_revoke_url
from harness.errors import AuthError, InputError
from harness.oauth_attributes import TokenPlacement

BASE = {
    "grant_type": "authorization_code_with_pkce",
    "authUrl": "https://drchrono.com/o/authorize/",
    "accessTokenUrl": "https://drchrono.com/o/token/",
    "clientId": "client-id-1",
    "clientSecret": "very-secret-value",
    "scope": "patients:read calendar:read",
    "redirect_uri": "http://127.0.0.1:8976/callback",
    "tokenName": "drchrono",
}


def settings(**overrides: str) -> OAuth2Settings:
    return OAuth2Settings.from_postman({**BASE, **overrides})


def test_postman_attributes_become_settings() -> None:
    s = settings(addTokenTo="queryParams", client_authentication="body", headerPrefix="Token")
    assert s.grant_type is GrantType.AUTHORIZATION_CODE_PKCE
    assert s.placement == TokenPlacement(in_query=True, header_prefix="Token")
    assert s.client_authentication is ClientAuthentication.BODY
    assert s.scopes == ["patients:read", "calendar:read"]
    assert s.revoke_url == "https://drchrono.com/o/revoke_token/"
    assert "very-secret-value" not in repr(s)


def test_defaults_follow_postman() -> None:
    s = OAuth2Settings.from_postman(
        {
            "accessTokenUrl": "https://app.drchrono.com/o/token/",
            "clientId": "c",
            "refreshToken": "r" * 20,
        }
    )
    assert s.grant_type is GrantType.AUTHORIZATION_CODE
    assert s.placement == TokenPlacement(in_query=False, header_prefix="Bearer")
    assert s.client_authentication is ClientAuthentication.BASIC_HEADER
    assert s.challenge_algorithm == "S256"


@pytest.mark.parametrize(
    "url", ["http://drchrono.com/o/token/", "ftp://x/o/token/", "http://10.0.0.5/o/token/"]
)
def test_plain_http_to_a_remote_host_is_refused(url: str) -> None:
    with pytest.raises(InputError, match="not HTTPS"):
        settings(accessTokenUrl=url)


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:9/o/token/",
        "http://localhost/o/token/",
        "http://[::1]:8000/o/token/",
        "http://127.8.0.1/o/token/",
    ],
)
def test_plain_http_to_loopback_is_allowed(url: str) -> None:
    assert settings(accessTokenUrl=url, authUrl=url).access_token_url == url


def test_unresolved_variable_is_named_but_secret_values_are_hidden() -> None:
    with pytest.raises(InputError, match="clientId") as err:
        settings(clientId="{{client_id}}")
    assert "{{client_id}}" in str(err.value)
    with pytest.raises(InputError, match="clientSecret") as err:
        settings(clientSecret="{{client_secret}}")
    assert "value hidden" in str(err.value)


def test_missing_and_unusable_settings_are_reported() -> None:
    with pytest.raises(InputError, match="accessTokenUrl"):
        OAuth2Settings.from_postman({"clientId": "x", "authUrl": "https://a/o/authorize/"})
    with pytest.raises(InputError, match="Unknown OAuth 2.0 grant"):
        settings(grant_type="device_code")
    with pytest.raises(InputError, match="implicit"):
        settings(grant_type="implicit")
    with pytest.raises(InputError, match="username, password"):
        settings(grant_type="password")
    with pytest.raises(InputError, match="addTokenTo"):
        settings(addTokenTo="cookie")


def test_revoke_url_sits_beside_the_token_url() -> None:
    assert (
        default_revoke_url("https://app.drchrono.com/o/token/")
        == "https://app.drchrono.com/o/revoke_token/"
    )


def test_authorization_url_carries_state_and_s256_challenge() -> None:
    request = authorization_request(settings())
    query = {k: v[0] for k, v in parse_qs(urlsplit(request.url).query).items()}
    assert query["response_type"] == "code"
    assert query["state"] == request.state and len(request.state) >= 20
    assert query["redirect_uri"] == BASE["redirect_uri"]
    assert query["scope"] == "patients:read calendar:read"
    assert query["code_challenge_method"] == "S256"
    assert request.code_verifier is not None
    digest = hashlib.sha256(request.code_verifier.encode()).digest()
    assert query["code_challenge"] == base64.urlsafe_b64encode(digest).decode().rstrip("=")
    assert authorization_request(settings()).state != request.state


def test_token_request_uses_basic_or_body_client_authentication() -> None:
    basic = token_request(settings(), "refresh_token", refresh_token="rt-123456")
    assert basic.headers["Authorization"].startswith("Basic ")
    assert "client_secret" not in basic.body
    assert parse_qs(basic.body) == {"grant_type": ["refresh_token"], "refresh_token": ["rt-123456"]}
    body = token_request(
        settings(client_authentication="body"), "refresh_token", refresh_token="rt-123456"
    )
    assert "Authorization" not in body.headers
    assert parse_qs(body.body)["client_secret"] == ["very-secret-value"]
    assert "very-secret-value" not in repr(body)


def test_revoke_request_has_token_and_hint() -> None:
    request = revoke_request(settings(client_authentication="body"), "tok-123456", "refresh_token")
    fields = parse_qs(request.body)
    assert fields["token"] == ["tok-123456"]
    assert fields["token_type_hint"] == ["refresh_token"]
    assert "grant_type" not in fields


def test_token_response_is_parsed_with_expiry() -> None:
    request = token_request(settings(), "refresh_token", refresh_token="x" * 10)
    body = (
        b'{"access_token": "a1", "token_type": "Bearer", "expires_in": 172800, '
        b'"scope": "patients:read", "refresh_token": "r2"}'
    )
    parsed = parse_token_response(request, 200, body, now=1000.0)
    assert parsed.expires_at == 1000.0 + 172800
    assert parsed.refresh_token == "r2" and parsed.scope == "patients:read"


@pytest.mark.parametrize("status", [400, 401])
def test_errors_are_judged_by_the_error_field_not_the_status(status: int) -> None:
    request = token_request(settings(), "refresh_token", refresh_token="x" * 10)
    with pytest.raises(TokenEndpointError) as err:
        parse_token_response(request, status, b'{"error": "invalid_grant"}')
    assert err.value.error_code == "invalid_grant"
    assert "harness auth login" in str(err.value)
    with pytest.raises(TokenEndpointError, match="DRCHRONO_CLIENT_SECRET"):
        parse_token_response(request, status, b'{"error": "invalid_client"}')


def test_a_non_json_answer_is_an_auth_error() -> None:
    request = token_request(settings(), "refresh_token", refresh_token="x" * 10)
    with pytest.raises(AuthError, match="HTTP 502"):
        parse_token_response(request, 502, b"<html>Bad gateway</html>")


def test_auth_subcommands_are_registered() -> None:
    import argparse

    from harness.auth import cli

    parser = argparse.ArgumentParser()
    cli.register(parser.add_subparsers())
    for action, func in [
        ("login", cli.cmd_login),
        ("status", cli.cmd_status),
        ("refresh", cli.cmd_refresh),
        ("revoke", cli.cmd_revoke),
        ("logout", cli.cmd_logout),
    ]:
        args = parser.parse_args(
            [
                "auth",
                action,
                "--token-store",
                "t.json",
                "--no-browser",
                "--env-var",
                "a=b",
                "-e",
                "env.json",
            ]
        )
        assert args.func is func
        assert args.env_var == ["a=b"] and args.no_browser


def test_a_header_prefix_no_header_can_carry_is_refused_before_any_traffic() -> None:
    with pytest.raises(InputError, match=r"headerPrefix.*cannot carry"):
        settings(headerPrefix="Bearer\r\nX-Injected: 1")
