"""setNextRequest / skipRequest directives and pm.info."""

from __future__ import annotations

from harness.scripting import NextRequest
from tests.scripting_support import messages, run_prerequest, run_test


def test_no_directive_means_go_on_in_order() -> None:
    outcome = run_test("pm.test('x', () => {});")
    assert outcome.next_request is None and not outcome.skip_request


def test_set_next_request_by_name_and_the_last_call_wins() -> None:
    outcome = run_test("pm.execution.setNextRequest('A'); postman.setNextRequest('Get patient');")
    assert outcome.next_request == NextRequest("Get patient")


def test_set_next_request_null_stops_the_run() -> None:
    assert run_test("postman.setNextRequest(null);").next_request == NextRequest(None)
    assert run_test("pm.execution.setNextRequest(null);").next_request == NextRequest(None)


def test_skip_request_in_a_pre_request_script() -> None:
    outcome = run_prerequest("if (!pm.variables.get('token')) { pm.execution.skipRequest(); }")
    assert outcome.skip_request


def test_info() -> None:
    code = """
    pm.test("info", () => {
        pm.expect(pm.info.eventName).to.equal("test");
        pm.expect(pm.info.iteration).to.equal(0);
        pm.expect(pm.info.iterationCount).to.equal(1);
        pm.expect(pm.info.requestName).to.equal("List patients");
        pm.expect(pm.info.requestId).to.equal("req-1");
    });
    """
    assert messages(run_test(code)) == {"info": ""}


def test_top_level_return_ends_the_script_quietly() -> None:
    outcome = run_test(
        "pm.test('before', () => {});\nif (true) { return; }\npm.test('after', () => {});"
    )
    assert messages(outcome) == {"before": ""} and not outcome.failures
