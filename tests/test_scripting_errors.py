"""Script errors, time limits and memory limits: reported with their place, counted as failures."""

from __future__ import annotations

import time

from harness.scripting import ScriptLimits, ScriptRunner
from tests.scripting_support import messages, run_test


def test_a_thrown_error_names_the_script_event_and_line() -> None:
    code = "pm.test('first', () => {});\n\nconst body = pm.response.json();\nbody.missing.field;\npm.test('never', () => {});"
    outcome = run_test(code)
    (failure,) = outcome.failures
    assert (failure.owner, failure.event, failure.line, failure.kind) == (
        "request 'List patients'",
        "test",
        4,
        "error",
    )
    assert failure.error_name == "TypeError"
    assert failure.describe().startswith(
        "TypeError in the test script of request 'List patients', line 4: "
    )
    assert messages(outcome) == {"first": ""}  # what ran before the error is kept
    assert not outcome.passed


def test_an_error_inside_a_function_reports_the_innermost_line_of_the_script() -> None:
    outcome = run_test("function f() {\n  throw new Error('bad');\n}\nf();")
    (failure,) = outcome.failures
    assert (failure.line, failure.error_name, failure.message) == (2, "Error", "bad")


def test_a_failed_expect_outside_pm_test_is_a_script_failure() -> None:
    outcome = run_test("\npm.expect(pm.response.code).to.equal(500);")
    (failure,) = outcome.failures
    assert (failure.error_name, failure.message, failure.line) == (
        "AssertionError",
        "expected 200 to equal 500",
        2,
    )


def test_a_syntax_error() -> None:
    (failure,) = run_test("pm.test('x', () => {\n  if (;\n});").failures
    assert failure.error_name == "SyntaxError" and failure.line == 2


def test_an_endless_loop_stops_at_the_time_limit() -> None:
    runner = ScriptRunner(limits=ScriptLimits(timeout_s=0.2))
    started = time.monotonic()
    outcome = run_test("pm.environment.set('a', '1');\nwhile (true) {}", runner=runner)
    assert time.monotonic() - started < 3
    (failure,) = outcome.failures
    assert failure.kind == "timeout"
    assert failure.message == "the script ran longer than its 0.2 s limit"


def test_a_memory_hog_stops_at_the_memory_limit() -> None:
    runner = ScriptRunner(limits=ScriptLimits(memory_bytes=16 * 1024 * 1024))
    outcome = run_test(
        "const all = [];\nwhile (true) { all.push('x'.repeat(1e5) + all.length); }", runner=runner
    )
    (failure,) = outcome.failures
    assert failure.kind == "memory"
    assert failure.message == "the script used more than its 16 MiB memory limit"


def test_no_file_system_network_or_process_access() -> None:
    code = """
    pm.test("sandboxed", () => {
        pm.expect(typeof std).to.equal("undefined");
        pm.expect(typeof os).to.equal("undefined");
        pm.expect(typeof process).to.equal("undefined");
        pm.expect(typeof fetch).to.equal("undefined");
        pm.expect(typeof XMLHttpRequest).to.equal("undefined");
        pm.expect(() => require("fs")).to.throw();
        pm.expect(() => require("child_process")).to.throw();
    });
    """
    assert messages(run_test(code)) == {"sandboxed": ""}


def test_an_endless_chain_of_promise_jobs_stops_at_the_time_limit() -> None:
    runner = ScriptRunner(limits=ScriptLimits(timeout_s=0.2))
    code = "function again() { return Promise.resolve().then(again); }\nagain();"
    (failure,) = run_test(code, runner=runner).failures
    assert failure.kind == "timeout"
