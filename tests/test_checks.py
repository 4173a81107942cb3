"""Judging responses: status expectations, causes, and the 403 scope report."""

from __future__ import annotations

from typing import Any

import httpx

from harness.checks import capture, judge
from harness.results import Cause, Verdict
from harness.scripts import Capture


class Contracts:
    """A contract checker that accepts everything and lists DrChrono-style scopes."""

    def check(self, **kwargs: Any) -> Any:
        class Report:
            operation = f"{kwargs['method']} /api/patients"
            violations: list[Any] = []
            drift: list[str] = []

        return Report()

    def required_scopes(self, method: str, path: str) -> list[str]:
        return ["patients:read", "patients:write"]


def response(status: int, method: str = "POST", body: bytes = b"{}") -> httpx.Response:
    return httpx.Response(
        status, content=body, request=httpx.Request(method, "https://h/api/patients")
    )


def test_403_names_the_write_scope_a_post_needs_and_what_the_token_has() -> None:
    judged = judge(
        response(403), "POST", (201,), Contracts(), granted_scopes=["patients:read", "user:read"]
    )
    assert judged.verdict is Verdict.FAILED and judged.cause is Cause.AUTH
    message = judged.checks[0].message
    assert "needs scope patients:write;" in message
    assert "the token has patients:read user:read" in message
    assert "Authorize again" in message


def test_server_faults_and_throttling_are_errors_not_failures() -> None:
    assert judge(response(503, "GET"), "GET", (200,), None).cause is Cause.SERVER_FAULT
    assert judge(response(503, "GET"), "GET", (200,), None).verdict is Verdict.ERROR
    assert judge(response(429, "GET"), "GET", (200,), None).cause is Cause.THROTTLED
    assert judge(response(409), "POST", (201,), None).cause is Cause.STATUS
    assert (
        judge(response(302, "GET"), "GET", (), None).verdict is Verdict.PASSED
    )  # no expectation: 2xx/3xx


def test_captures_from_body_header_and_status() -> None:
    got = httpx.Response(201, json={"id": 7, "rooms": [{"index": 2}]}, headers={"Location": "/p/7"})
    values = capture(
        got,
        [
            Capture("pid", "json", "id"),
            Capture("room", "json", "rooms[0].index"),
            Capture("loc", "header", "Location"),
            Capture("code", "status"),
            Capture("none", "json", "missing"),
        ],
    )
    assert values == {"pid": "7", "room": "2", "loc": "/p/7", "code": "201"}
