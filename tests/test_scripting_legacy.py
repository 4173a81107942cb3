"""The pre-pm script API that old collections still use."""

from __future__ import annotations

from dataclasses import replace

from harness.scripting import ScriptInfo, ScriptRunner, ScriptSource
from tests.scripting_support import REQUEST, json_response, messages, run_test, scopes


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


def test_the_legacy_environment_and_globals_objects_follow_postman_setters() -> None:
    # postman-sandbox's legacy interface writes each postman.set*/clear* through to the
    # `environment`/`globals` objects (Newman's clear-vars-sandbox fixture reads them back).
    scope = scopes(environment={"old": "1", "gone": "2"}, globals={"g": "x"})
    code = """
    postman.setEnvironmentVariable("e", 2);
    postman.setGlobalVariable("g", "3");
    postman.clearEnvironmentVariable("gone");
    tests["set"] = environment.e === "2" && globals.g === "3" && !("gone" in environment);
    postman.clearGlobalVariables();
    tests["cleared"] = Object.keys(globals).length === 0;
    """
    outcome = run_test(code, scope=scope)
    assert messages(outcome) == {"set": "", "cleared": ""}
    assert scope.environment == {"old": "1", "e": "2"}
    assert scope.globals == {}


def test_the_legacy_request_has_its_name_and_description() -> None:
    # Newman's request-name-in-script fixture: `request.name` and `request.description`.
    code = 'tests["named"] = request.name === "r1" && request.description === "testDesc";'
    outcome = ScriptRunner().run_test(
        [ScriptSource(code, "test", "request 'r1'")],
        REQUEST,
        json_response({}),
        scopes(),
        ScriptInfo("r1", request_description="testDesc"),
    )
    assert messages(outcome) == {"named": ""}


def test_legacy_get_response_cookie_is_a_cookie_object() -> None:
    # postman-sandbox: postman.getResponseCookie(name) is `cookies.one(name)`, a Cookie with
    # .name and .value (Newman's cookie-jar fixture reads `.value`).
    response = replace(
        json_response({}),
        headers=(("Content-Type", "text/plain"), ("Set-Cookie", "foo=bar; Path=/")),
    )
    code = """
    tests["cookie"] = postman.getResponseCookie("foo").value === "bar";
    tests["missing"] = postman.getResponseCookie("nope") === undefined;
    """
    assert messages(run_test(code, response)) == {"cookie": "", "missing": ""}


def test_response_stream_reads_as_the_body() -> None:
    # Postman's response.stream is a Buffer of the body: `res.stream.toString()` is the text.
    code = 'tests["stream"] = JSON.parse(pm.response.stream.toString()).id === 5;'
    assert messages(run_test(code)) == {"stream": ""}
