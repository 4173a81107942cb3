"""Shared helpers for the script-conformance tests (tests/test_scripting_*.py)."""

from __future__ import annotations

import json

from harness.scripting import (
    ScriptInfo,
    ScriptOutcome,
    ScriptRequest,
    ScriptResponse,
    ScriptRunner,
    ScriptSource,
)
from harness.variables import Scopes

REQUEST = ScriptRequest("GET", "{{base}}/patients?page=1")


def json_response(body: object, code: int = 200, reason: str = "OK") -> ScriptResponse:
    return ScriptResponse(
        code, reason, (("Content-Type", "application/json"),), json.dumps(body).encode(), 42.0
    )


def scopes(**named: dict[str, str]) -> Scopes:
    return Scopes(os_environ={}, **named)


def run_test(
    code: str,
    response: ScriptResponse | None = None,
    *,
    scope: Scopes | None = None,
    runner: ScriptRunner | None = None,
) -> ScriptOutcome:
    return (runner or ScriptRunner()).run_test(
        [ScriptSource(code, "test", "request 'List patients'")],
        REQUEST,
        response if response is not None else json_response({"id": 5}),
        scope if scope is not None else scopes(),
        ScriptInfo("List patients", "req-1", iteration=0, iteration_count=1),
    )


def run_prerequest(
    code: str,
    request: ScriptRequest = REQUEST,
    *,
    scope: Scopes | None = None,
    runner: ScriptRunner | None = None,
) -> ScriptOutcome:
    return (runner or ScriptRunner()).run_prerequest(
        [ScriptSource(code, "prerequest", "request 'List patients'")],
        request,
        scope if scope is not None else scopes(),
        ScriptInfo("List patients", "req-1"),
    )


def messages(outcome: ScriptOutcome) -> dict[str, str]:
    """Test name -> failure message ("" when it passed)."""
    return {t.name: t.message for t in outcome.tests}
