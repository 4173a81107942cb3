"""The Postman test-script idioms the harness reads instead of running JavaScript."""

from __future__ import annotations

from harness.scripts import NOT_EXECUTED, SKIPPED_IN_SCRIPT, Capture, read_test_script


def events(*lines: str) -> list[dict[str, object]]:
    return [{"listen": "test", "script": {"exec": list(lines)}}]


def test_captures_status_and_one_of() -> None:
    facts = read_test_script(
        events(
            'pm.test("ok", function () { pm.response.to.have.status(201); });',
            'pm.collectionVariables.set("pid", pm.response.json().id);',
            "pm.environment.set('first', pm.response.json().results[0][\"first name\"]);",
            'pm.globals.set("loc", pm.response.headers.get("Location"));',
            "pm.expect(pm.response.code).to.be.oneOf([200, 204]);",
        )
    )
    assert facts.expected_statuses == (201, 200, 204)
    assert facts.captures == (
        Capture("pid", "json", "id"),
        Capture("first", "json", 'results[0]."first name"'),
        Capture("loc", "header", "Location"),
    )
    assert facts.not_run == ()


def test_other_javascript_is_listed_as_not_run_not_silently_dropped() -> None:
    facts = read_test_script(
        events("const x = pm.response.json();", "pm.expect(x.a).to.eql(1);", "// comment")
    )
    assert [s.describe() for s in facts.not_run] == [
        "test script lines 1-2: JavaScript the harness does not run"
    ]
    assert facts.captures == () and facts.expected_statuses == ()


def test_a_line_with_a_status_and_another_assertion_is_not_wholly_read() -> None:
    facts = read_test_script(
        events(
            'pm.test("ok", function () { pm.response.to.have.status(200); '
            "pm.expect(pm.response.json().id).to.eql(5); });",
            'pm.test("ok", () => pm.response.to.have.status(200));',
            "pm.expect(pm.response.code).to.be.oneOf([200, 201]);",
        )
    )
    assert facts.expected_statuses == (200, 201)
    assert [(s.lines, s.reason) for s in facts.not_run] == [((1,), NOT_EXECUTED)]


def test_skipped_tests_are_not_applied_and_are_listed() -> None:
    facts = read_test_script(
        events(
            'pm.test.skip("flaky", function () { pm.response.to.have.status(500); });',
            'pm.test.skip("also", function () {',
            '    pm.collectionVariables.set("x", pm.response.json().id);',
            "});",
            "pm.response.to.have.status(200);",
        )
    )
    assert facts.expected_statuses == (200,) and facts.captures == ()
    assert [s.describe() for s in facts.not_run] == [f"test script lines 1-4: {SKIPPED_IN_SCRIPT}"]


def test_prerequest_scripts_are_not_read_as_tests() -> None:
    facts = read_test_script(
        [{"listen": "prerequest", "script": {"exec": ["pm.response.to.have.status(500);"]}}]
    )
    assert facts.expected_statuses == ()
    assert [s.describe() for s in facts.not_run] == [
        "pre-request script line 1: JavaScript the harness does not run"
    ]
