"""Injected faults reach the client exactly as the real failures would."""

from __future__ import annotations

import json
from collections.abc import Iterator

import httpx
import pytest

from drchrono_sandbox import FaultKind, Sandbox, SandboxConfig
from drchrono_sandbox.errors import SandboxError
from drchrono_sandbox.faults import parse_fault_flag


@pytest.fixture(scope="module")
def sb() -> Iterator[Sandbox]:
    with Sandbox(SandboxConfig(seed=7)) as sandbox:
        yield sandbox


@pytest.fixture()
def api(sb: Sandbox) -> Iterator[httpx.Client]:
    token = httpx.post(
        f"{sb.base_url}/o/token/",
        auth=(sb.client_id, sb.client_secret),
        data={"grant_type": "refresh_token", "refresh_token": sb.issue_refresh_token()},
    ).json()["access_token"]
    sb.faults.clear()
    with httpx.Client(
        base_url=sb.base_url, timeout=10, headers={"Authorization": f"Bearer {token}"}
    ) as client:
        yield client
    sb.faults.clear()


def test_server_error_for_the_next_n_calls_then_normal(api: httpx.Client, sb: Sandbox) -> None:
    sb.faults.inject(route="/api/patients*", kind=FaultKind.SERVER_ERROR, count=2)
    before = sb.request_count("/api/patients")
    codes = [api.get("/api/patients").status_code for _ in range(3)]
    assert codes == [500, 500, 200]
    assert sb.request_count("/api/patients") - before == 3
    assert api.get("/api/doctors").status_code == 200  # other routes untouched


def test_unavailable_and_throttle(api: httpx.Client, sb: Sandbox) -> None:
    sb.faults.inject(route="/api/doctors", kind=FaultKind.UNAVAILABLE, count=1)
    assert api.get("/api/doctors").status_code == 503
    sb.faults.inject(route="/api/doctors", kind="429", count=1, retry_after=3)
    throttled = api.get("/api/doctors")
    assert throttled.status_code == 429 and throttled.headers["retry-after"] == "3"
    sb.faults.inject(route="/api/doctors", kind="throttle", count=1)
    plain = api.get("/api/doctors")
    assert plain.json() == {"detail": "Request was throttled."}
    assert "retry-after" not in plain.headers


def test_delay_makes_a_client_time_out(api: httpx.Client, sb: Sandbox) -> None:
    sb.faults.inject(route="/api/offices", kind=FaultKind.DELAY, count=1, seconds=2)
    with pytest.raises(httpx.ReadTimeout):
        api.get("/api/offices", timeout=0.3)


def test_reset_drops_the_connection(api: httpx.Client, sb: Sandbox) -> None:
    sb.faults.inject(route="/api/offices", kind=FaultKind.RESET, count=1)
    with pytest.raises(httpx.TransportError):
        api.get("/api/offices")
    assert api.get("/api/offices").status_code == 200


def test_malformed_json_html_and_wrong_content_type(api: httpx.Client, sb: Sandbox) -> None:
    sb.faults.inject(route="/api/offices", kind=FaultKind.MALFORMED_JSON, count=1)
    broken = api.get("/api/offices")
    assert broken.status_code == 200 and broken.headers["content-type"] == "application/json"
    with pytest.raises(json.JSONDecodeError):
        broken.json()
    sb.faults.inject(route="/api/offices", kind=FaultKind.HTML_200, count=1)
    login = api.get("/api/offices")
    assert login.status_code == 200 and login.headers["content-type"].startswith("text/html")
    assert "Log in" in login.text
    sb.faults.inject(route="/api/offices", kind=FaultKind.WRONG_CONTENT_TYPE, count=1)
    typed = api.get("/api/offices")
    assert typed.headers["content-type"].startswith("text/plain")
    assert "results" in json.loads(typed.text)


def test_redirect_loop(api: httpx.Client, sb: Sandbox) -> None:
    sb.faults.inject(route="/api/offices", kind=FaultKind.REDIRECT_LOOP)
    first = api.get("/api/offices?doctor=1")
    assert first.status_code == 302 and first.headers["location"] == "/api/offices?doctor=1"
    with pytest.raises(httpx.TooManyRedirects):
        api.get("/api/offices", follow_redirects=True)
    sb.faults.clear()
    assert api.get("/api/offices").status_code == 200


def test_token_endpoint_error_only_hits_the_token_endpoint(api: httpx.Client, sb: Sandbox) -> None:
    sb.faults.inject(kind=FaultKind.TOKEN_ENDPOINT_ERROR, count=1)
    assert api.get("/api/doctors").status_code == 200
    refused = httpx.post(
        f"{sb.base_url}/o/token/",
        auth=(sb.client_id, sb.client_secret),
        data={"grant_type": "refresh_token", "refresh_token": sb.issue_refresh_token()},
    )
    assert refused.status_code == 500


def test_methods_option_limits_a_fault(api: httpx.Client, sb: Sandbox) -> None:
    sb.faults.inject(route="/api/tasks", kind="server_error", methods=["POST"])
    assert api.get("/api/tasks").status_code == 200
    assert api.post("/api/tasks", json={"title": "x", "status": 1}).status_code == 500


def test_fault_flags_and_kinds_parse() -> None:
    assert parse_fault_flag("/api/patients*:500:3") == ("/api/patients*", FaultKind.SERVER_ERROR, 3)
    assert parse_fault_flag("*:reset") == ("*", FaultKind.RESET, None)
    assert FaultKind.parse("HTML_200") is FaultKind.HTML_200
    with pytest.raises(SandboxError):
        parse_fault_flag("/api/patients")
    with pytest.raises(SandboxError):
        FaultKind.parse("explode")
