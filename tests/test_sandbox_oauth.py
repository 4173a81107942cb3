"""The sandbox's OAuth 2.0 endpoints behave like django-oauth-toolkit on drchrono.com."""

from __future__ import annotations

import base64
import hashlib
import secrets
import time
from collections.abc import Iterator
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from drchrono_sandbox import Sandbox, SandboxConfig
from tests.conftest import refresh_grant as refresh


@pytest.fixture(scope="module")
def sb() -> Iterator[Sandbox]:
    with Sandbox(SandboxConfig(seed=11)) as sandbox:
        yield sandbox


@pytest.fixture()
def http(sb: Sandbox) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=sb.base_url, timeout=10) as client:
        yield client


def authorize(http: httpx.Client, sb: Sandbox, **params: str) -> httpx.Response:
    query = {
        "response_type": "code",
        "client_id": sb.client_id,
        "redirect_uri": sb.redirect_uri,
        "state": "st4te",
        **params,
    }
    return http.get("/o/authorize/", params=query)


def query_of(response: httpx.Response) -> dict[str, str]:
    assert response.status_code == 302, response.text
    location = response.headers["location"]
    return {k: v[0] for k, v in parse_qs(urlsplit(location).query).items()}


def pkce_pair() -> tuple[str, str]:
    verifier = secrets.token_urlsafe(48)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest())
    return verifier, challenge.decode().rstrip("=")


def test_credentials_are_fixed_by_the_seed() -> None:
    a, b, c = (
        Sandbox(SandboxConfig(seed=3)),
        Sandbox(SandboxConfig(seed=3)),
        Sandbox(SandboxConfig(seed=4)),
    )
    assert (a.client_id, a.client_secret, a.refresh_token) == (
        b.client_id,
        b.client_secret,
        b.refresh_token,
    )
    assert a.client_id != c.client_id and a.refresh_token != c.refresh_token


def test_refresh_rotates_and_old_token_is_refused(http: httpx.Client, sb: Sandbox) -> None:
    start = sb.issue_refresh_token()
    first = refresh(http, sb, start)
    assert first.status_code == 200
    body = first.json()
    assert body["token_type"] == "Bearer" and body["expires_in"] == 172800
    assert set(body["scope"].split()) >= {"patients:read", "calendar:write"}
    assert body["refresh_token"] != start
    again = refresh(http, sb, start)
    assert again.status_code == 400 and again.json()["error"] == "invalid_grant"
    # The rotated token works once, and the access token of a spent pair is gone.
    old_access = body["access_token"]
    second = refresh(http, sb, body["refresh_token"])
    assert second.status_code == 200
    stale = http.get("/api/doctors", headers={"Authorization": f"Bearer {old_access}"})
    assert stale.status_code == 401


def test_wrong_secret_is_invalid_client(http: httpx.Client, sb: Sandbox) -> None:
    response = http.post(
        "/o/token/",
        data={
            "grant_type": "refresh_token",
            "refresh_token": sb.issue_refresh_token(),
            "client_id": sb.client_id,
            "client_secret": "not-the-secret",
        },
    )
    assert response.status_code == 401
    assert response.json()["error"] == "invalid_client"


def test_http_basic_client_authentication(http: httpx.Client, sb: Sandbox) -> None:
    response = http.post(
        "/o/token/",
        auth=(sb.client_id, sb.client_secret),
        data={"grant_type": "refresh_token", "refresh_token": sb.issue_refresh_token()},
    )
    assert response.status_code == 200, response.text
    assert "access_token" in response.json()


def test_unknown_grant_type(http: httpx.Client, sb: Sandbox) -> None:
    response = http.post(
        "/o/token/",
        auth=(sb.client_id, sb.client_secret),
        data={"grant_type": "password", "username": "u", "password": "p"},
    )
    assert response.json()["error"] == "unsupported_grant_type"


def test_client_credentials_has_no_refresh_token(http: httpx.Client, sb: Sandbox) -> None:
    response = http.post(
        "/o/token/",
        auth=(sb.client_id, sb.client_secret),
        data={"grant_type": "client_credentials", "scope": "user:read"},
    )
    assert response.status_code == 200
    assert "refresh_token" not in response.json()
    assert response.json()["scope"] == "user:read"


def test_authorization_code_with_pkce(http: httpx.Client, sb: Sandbox) -> None:
    verifier, challenge = pkce_pair()
    got = query_of(
        authorize(
            http,
            sb,
            scope="patients:read user:read",
            code_challenge=challenge,
            code_challenge_method="S256",
        )
    )
    assert got["state"] == "st4te"
    form = {
        "grant_type": "authorization_code",
        "code": got["code"],
        "redirect_uri": sb.redirect_uri,
        "client_id": sb.client_id,
        "client_secret": sb.client_secret,
    }
    wrong = http.post("/o/token/", data={**form, "code_verifier": verifier + "x"})
    assert wrong.status_code == 400 and wrong.json()["error"] == "invalid_grant"
    # A refused exchange still spends the code: get a fresh one for the right verifier.
    got = query_of(
        authorize(
            http,
            sb,
            scope="patients:read user:read",
            code_challenge=challenge,
            code_challenge_method="S256",
        )
    )
    form["code"] = got["code"]
    right = http.post("/o/token/", data={**form, "code_verifier": verifier})
    assert right.status_code == 200, right.text
    assert right.json()["scope"] == "patients:read user:read"
    assert right.json()["refresh_token"]
    reused = http.post("/o/token/", data={**form, "code_verifier": verifier})
    assert reused.status_code == 400 and reused.json()["error"] == "invalid_grant"


def test_omitted_scope_grants_every_scope(http: httpx.Client, sb: Sandbox) -> None:
    code = query_of(authorize(http, sb))["code"]
    response = http.post(
        "/o/token/",
        auth=(sb.client_id, sb.client_secret),
        data={"grant_type": "authorization_code", "code": code, "redirect_uri": sb.redirect_uri},
    )
    assert len(response.json()["scope"].split()) == 22


def test_loopback_redirect_on_any_port(http: httpx.Client, sb: Sandbox) -> None:
    got = authorize(http, sb, redirect_uri="http://127.0.0.1:51234/callback")
    assert got.headers["location"].startswith("http://127.0.0.1:51234/callback?")


def test_unknown_client_and_redirect_mismatch_are_400_pages(
    http: httpx.Client, sb: Sandbox
) -> None:
    assert authorize(http, sb, client_id="nobody").status_code == 400
    bad = authorize(http, sb, redirect_uri="https://evil.example.com/cb")
    assert bad.status_code == 400 and "text/html" in bad.headers["content-type"]


def test_expired_code_is_invalid_grant() -> None:
    with (
        Sandbox(SandboxConfig(seed=11, code_ttl=0)) as sandbox,
        httpx.Client(base_url=sandbox.base_url) as http,
    ):
        code = query_of(authorize(http, sandbox))["code"]
        response = http.post(
            "/o/token/",
            auth=(sandbox.client_id, sandbox.client_secret),
            data={
                "grant_type": "authorization_code",
                "code": code,
                "redirect_uri": sandbox.redirect_uri,
            },
        )
        assert response.json()["error"] == "invalid_grant"


def test_consent_page_allow_and_deny() -> None:
    with (
        Sandbox(SandboxConfig(seed=11, auto_approve=False)) as sandbox,
        httpx.Client(base_url=sandbox.base_url) as http,
    ):
        page = authorize(http, sandbox, scope="patients:read")
        assert page.status_code == 200
        assert 'name="allow"' in page.text and "patients:read" in page.text
        form = {
            "client_id": sandbox.client_id,
            "redirect_uri": sandbox.redirect_uri,
            "response_type": "code",
            "state": "st4te",
            "scope": "patients:read",
        }
        denied = query_of(http.post("/o/authorize/", data={**form, "cancel": "Cancel"}))
        assert denied == {"error": "access_denied", "state": "st4te"}
        allowed = query_of(http.post("/o/authorize/", data={**form, "allow": "Authorize"}))
        assert allowed["code"] and allowed["state"] == "st4te"


def test_revoke_answers_200_with_empty_body(http: httpx.Client, sb: Sandbox) -> None:
    token = sb.issue_refresh_token()
    response = http.post(
        "/o/revoke_token/",
        data={
            "token": token,
            "token_type_hint": "refresh_token",
            "client_id": sb.client_id,
            "client_secret": sb.client_secret,
        },
    )
    assert response.status_code == 200 and response.content == b""
    assert refresh(http, sb, token).json()["error"] == "invalid_grant"


def test_access_token_expires_after_ttl() -> None:
    with (
        Sandbox(SandboxConfig(seed=11, access_ttl=1)) as sandbox,
        httpx.Client(base_url=sandbox.base_url) as http,
    ):
        body = refresh(http, sandbox, sandbox.refresh_token).json()
        assert body["expires_in"] == 1
        headers = {"Authorization": f"Bearer {body['access_token']}"}
        assert http.get("/api/doctors", headers=headers).status_code == 200
        time.sleep(1.2)
        expired = http.get("/api/doctors", headers=headers)
        assert expired.status_code == 401
        assert "expired" in expired.headers["www-authenticate"]


def test_expire_access_tokens_and_revoke_controls(http: httpx.Client, sb: Sandbox) -> None:
    body = refresh(http, sb, sb.issue_refresh_token()).json()
    headers = {"Authorization": f"Bearer {body['access_token']}"}
    assert http.get("/api/doctors", headers=headers).status_code == 200
    sb.expire_access_tokens()
    assert http.get("/api/doctors", headers=headers).status_code == 401
    # The refresh token still works after the access token expired; revoke() ends it.
    renewed = refresh(http, sb, body["refresh_token"]).json()
    assert sb.revoke(renewed["refresh_token"])
    assert refresh(http, sb, renewed["refresh_token"]).json()["error"] == "invalid_grant"
