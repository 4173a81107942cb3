"""The Postman test-script idioms the harness reads instead of running JavaScript."""

from __future__ import annotations

from harness.scripts import Capture, read_test_script


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
    assert facts.ignored_lines == 0


def test_other_javascript_is_counted_as_ignored_not_silently_dropped() -> None:
    facts = read_test_script(
        events("const x = pm.response.json();", "pm.expect(x.a).to.eql(1);", "// comment")
    )
    assert facts.ignored_lines == 2
    assert facts.captures == () and facts.expected_statuses == ()


def test_prerequest_scripts_are_not_read_as_tests() -> None:
    facts = read_test_script(
        [{"listen": "prerequest", "script": {"exec": ["pm.response.to.have.status(500);"]}}]
    )
    assert facts.expected_statuses == ()
