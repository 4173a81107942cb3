"""The pre-pm script API that old collections still use."""

from __future__ import annotations

from tests.scripting_support import json_response, messages, run_test, scopes


def test_legacy_tests_object_and_response_globals() -> None:
    code = """
    tests["status is 200"] = responseCode.code === 200;
    tests["body has id"] = JSON.parse(responseBody).id === 5;
    tests["header"] = responseHeaders["Content-Type"] === "application/json";
    tests["fast"] = responseTime < 1000;
    tests["wrong"] = responseCode.code === 201;
    """
    outcome = run_test(code, json_response({"id": 5}))
    assert messages(outcome) == {
        "status is 200": "",
        "body has id": "",
        "header": "",
        "fast": "",
        "wrong": "expected false to be truthy",
    }
    assert not outcome.passed


def test_legacy_variable_functions() -> None:
    scope = scopes(environment={"old": "1"}, globals={"g": "x"})
    code = """
    postman.setEnvironmentVariable("id", JSON.parse(responseBody).id);
    postman.setGlobalVariable("gg", "y");
    tests["get"] = postman.getEnvironmentVariable("old") === "1" && postman.getGlobalVariable("g") === "x";
    tests["snapshot"] = environment.old === "1" && globals.g === "x";
    postman.clearEnvironmentVariable("old");
    tests["header"] = postman.getResponseHeader("content-type") === "application/json";
    """
    outcome = run_test(code, scope=scope)
    assert messages(outcome) == {"get": "", "snapshot": "", "header": ""}
    assert scope.environment == {"id": "5"}
    assert scope.globals == {"g": "x", "gg": "y"}
