"""What a QA engineer writes in a scenario: body replacement, null removal, repeated token
expiry, Tavern-style matchers, delays and inline requests with the collection's headers."""

from __future__ import annotations

import json
import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest

from harness import paths
from harness.results import RequestResult
from harness.scenarios import ScenarioError, ScenarioExecutor, load_scenario_file
from harness.session import RunOptions, Session, open_session


@pytest.fixture(scope="module")
def session() -> Iterator[Session]:
    options = RunOptions(
        environment=paths.SANDBOX_ENVIRONMENT, contracts_dir=None, keep_bodies=True
    )
    with open_session(options) as opened:
        yield opened


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "s.yaml"
    path.write_text(textwrap.dedent(text).lstrip("\n"))
    return path


def run(
    session: Session, tmp_path: Path, text: str, slept: list[float] | None = None
) -> list[RequestResult]:
    [scenario] = load_scenario_file(write(tmp_path, text), session.collection)
    sleeps = slept if slept is not None else []
    executor = ScenarioExecutor(session, sleep=sleeps.append)
    return executor.run(scenario, scenario.name, {}, lambda _: None)


def verdicts(results: list[RequestResult]) -> list[str]:
    return [r.verdict.value for r in results]


def sent_json(result: RequestResult) -> dict[str, object]:
    assert result.request_body is not None
    body = json.loads(result.request_body)
    assert isinstance(body, dict)
    return body


def test_expire_tokens_twice_in_one_run_recovers_both_times(
    session: Session, tmp_path: Path
) -> None:
    results = run(
        session,
        tmp_path,
        """
        name: Two expiries
        steps:
          - request: Patients/List patients
          - sandbox: expire_tokens
          - request: Patients/List patients
          - sandbox: expire_tokens
          - request: Patients/List patients
          - sandbox: expire_tokens
          - request: Patients/List patients
        """,
    )
    assert verdicts(results) == ["passed"] * 7, [r.message for r in results]
    for after_expiry in (results[2], results[4], results[6]):
        assert "refreshed the token" in after_expiry.attempts[0].note


def test_body_replaces_and_null_removes_a_merged_field(session: Session, tmp_path: Path) -> None:
    results = run(
        session,
        tmp_path,
        """
        name: Bodies
        steps:
          - request: Patients/Create patient
            json: {email: null, cell_phone: null, last_name: Merged}
            cleanup: Patients/Delete patient
          - name: Replace the update's body
            request: Patients/Update patient
            body: {preferred_language: fra}
          - name: A text body is sent as written
            request: Patients/Update patient
            body: '{"preferred_language": "spa"}'
          - request: Patients/Retrieve patient
            expect: {json: {preferred_language: spa}}
        """,
    )
    assert verdicts(results) == ["passed"] * 5, [r.message for r in results]
    created = sent_json(results[0])
    assert "email" not in created and "cell_phone" not in created
    assert created["gender"] == "Female"  # the rest of the collection's body is kept
    assert sent_json(results[1]) == {"preferred_language": "fra"}
    assert sent_json(results[2]) == {"preferred_language": "spa"}


def test_body_and_json_together_is_refused_before_sending(tmp_path: Path) -> None:
    from harness.collection import load_collection

    path = write(
        tmp_path,
        """
        name: Both
        steps:
          - request: Patients/Update patient
            json: {preferred_language: fra}
            body: {preferred_language: fra}
        """,
    )
    with pytest.raises(ScenarioError) as caught:
        load_scenario_file(path, load_collection(paths.DEFAULT_COLLECTION))
    assert f"{path}:5:5:" in str(caught.value) and "both 'json'" in str(caught.value)


def test_tavern_matchers_regex_absent_and_strict(session: Session, tmp_path: Path) -> None:
    results = run(
        session,
        tmp_path,
        """
        name: Matchers
        steps:
          - request: Patients/Create patient
            expect:
              json:
                id: !anyint
                chart_id: !re_fullmatch '[A-Z0-9]+'
                first_name: !anystr
                date_of_birth: !anydate
                no_such_field: !absent
                doctor: !anything
            cleanup: Patients/Delete patient
          - name: Wrong types fail with the rule
            request: Patients/Retrieve patient
            expect:
              json: {id: !anystr , last_name: !re_match 'zz', chart_id: !absent }
          - name: Strict
            request: Patients/Retrieve patient
            expect: {json: {id: !anyint }, strict: true}
        """,
    )
    assert verdicts(results)[:2] == ["passed", "failed"], [r.checks for r in results]
    rules = {c.json_path: c.message for c in results[1].failed_checks}
    assert rules["$.id"].startswith("expected a string, got ")
    assert rules["$.last_name"].startswith("expected a string whose start matches /zz/, got a diff")
    assert rules["$.chart_id"] == "expected the field to be absent, it is present"
    assert "value hidden" in rules["$.last_name"]  # a patient's value is never quoted


def test_strict_wants_exactly_the_expected_fields(session: Session, tmp_path: Path) -> None:
    results = run(
        session,
        tmp_path,
        """
        name: Strict
        steps:
          - request: Patients/Create patient
            capture: {pid: "json: id"}
            cleanup: Patients/Delete patient
          - name: Strict
            request: Patients/Retrieve patient
            expect: {json: {id: "{{ pid }}"}, strict: true}
        """,
    )
    assert verdicts(results) == ["passed", "failed", "passed"]
    extra = results[1].failed_checks
    assert all(c.message.endswith("(strict: exact body)") for c in extra)
    assert "$.first_name" in {c.json_path for c in extra}


def test_matchers_are_refused_where_a_value_is_sent(tmp_path: Path) -> None:
    from harness.collection import load_collection

    path = write(
        tmp_path,
        """
        name: Sent
        steps:
          - request: Patients/Update patient
            json: {preferred_language: !anystr }
        """,
    )
    with pytest.raises(ScenarioError) as caught:
        load_scenario_file(path, load_collection(paths.DEFAULT_COLLECTION))
    assert "the matcher !anystr is only meaningful in 'expect.json'" in str(caught.value)
    path.write_text(
        "name: R\nsteps:\n  - request: Patients/List patients\n"
        "    expect: {json: {id: !re_match '('}}\n"
    )
    with pytest.raises(ScenarioError) as caught:
        load_scenario_file(path, load_collection(paths.DEFAULT_COLLECTION))
    assert f"{path}:4:" in str(caught.value) and "is not a regular expression" in str(caught.value)


def test_delays_wait_around_the_step(session: Session, tmp_path: Path) -> None:
    slept: list[float] = []
    results = run(
        session,
        tmp_path,
        """
        name: Delays
        steps:
          - request: Patients/List patients
            delay_before: 1.5
            delay_after: 0.25
          - sandbox: clear_faults
            delay_after: 2
        """,
        slept,
    )
    assert verdicts(results) == ["passed", "passed"]
    assert slept == [1.5, 0.25, 2.0]


def test_inline_requests_send_the_collections_headers(session: Session, tmp_path: Path) -> None:
    results = run(
        session,
        tmp_path,
        """
        name: Inline
        steps:
          - method: GET
            url: "{{ base_url }}/api/patients"
          - name: A step's own header wins; null drops one
            method: GET
            url: "{{ base_url }}/api/patients"
            headers: {X-DRC-API-Version: null, X-Extra: on-purpose}
        """,
    )
    assert verdicts(results) == ["passed", "passed"]
    first, second = (r.request_headers or {} for r in results)
    assert first["X-DRC-API-Version"] == "v4"
    assert "X-DRC-API-Version" not in second and second["X-Extra"] == "on-purpose"
