"""Scenarios against the sandbox: the shipped suites, cleanup after failures, polling, the CLI."""

from __future__ import annotations

import json
import subprocess
import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest

from harness import paths
from harness.results import RequestResult, Verdict
from harness.scenarios import ScenarioExecutor, load_scenario_file
from harness.session import RunOptions, Session, open_session

HARNESS = paths.PROJECT_ROOT / ".venv" / "bin" / "harness"


@pytest.fixture(scope="module")
def session() -> Iterator[Session]:
    options = RunOptions(environment=paths.SANDBOX_ENVIRONMENT, contracts_dir=None)
    with open_session(options) as opened:
        yield opened


def run(session: Session, tmp_path: Path, text: str) -> list[RequestResult]:
    path = tmp_path / "s.yaml"
    path.write_text(textwrap.dedent(text).lstrip("\n"))
    [scenario] = load_scenario_file(path, session.collection)
    executor = ScenarioExecutor(session, sleep=lambda _: None)
    return executor.run(scenario, scenario.name, {}, lambda _: None)


def summary(results: list[RequestResult]) -> list[tuple[str, str, int | None]]:
    return [(r.name, r.verdict.value, r.status) for r in results]


def test_a_failure_skips_the_rest_and_cleans_up_in_reverse(
    session: Session, tmp_path: Path
) -> None:
    results = run(
        session,
        tmp_path,
        """
        name: Failing booking
        steps:
          - request: Patients/Create patient
            cleanup: Patients/Delete patient
          - request: Appointments/Create appointment
            variables: {appointment_patient_id: "{{ patient_id }}"}
            json: {scheduled_time: "{{ date(90) }}T09:00:00"}
            capture: {appt: "json: id"}
            cleanup: {request: Appointments/Delete appointment, variables: {appointment_id: "{{ appt }}"}}
          - name: Wrong expectation
            request: Patients/Retrieve patient
            expect: {json: {gender: Other}}
          - request: Patients/List patients
        cleanup:
          - name: Never created
            request: Appointments/Retrieve appointment
            variables: {appointment_id: "{{ never_captured }}"}
        """,
    )
    assert summary(results) == [
        ("Patients/Create patient", "passed", 201),
        ("Appointments/Create appointment", "passed", 201),
        ("Wrong expectation", "failed", 200),
        ("Patients/List patients", "skipped", None),
        ("cleanup: Appointments/Delete appointment", "passed", 204),
        ("cleanup: Patients/Delete patient", "passed", 204),
        ("cleanup: Never created", "skipped", None),
    ]
    failed = results[2].failed_checks
    assert failed[0].name == "expect.json" and failed[0].json_path == "$.gender"


def test_retry_until_is_bounded_and_says_why(session: Session, tmp_path: Path) -> None:
    results = run(
        session,
        tmp_path,
        """
        name: Polling
        steps:
          - request: Patients/List patients
            retry_until: {json: {results: [{first_name: Nobody-at-all}]}, attempts: 3, delay_s: 0}
        """,
    )
    [result] = results
    assert result.verdict is Verdict.FAILED
    assert len(result.attempts) == 3
    assert "condition not met after 3 attempts" in result.failed_checks[0].message


def test_sandbox_steps_and_scenario_tokens(session: Session, tmp_path: Path) -> None:
    results = run(
        session,
        tmp_path,
        """
        name: Limited token
        steps:
          - sandbox: issue_refresh_token
            args: {scopes: ["patients:read"]}
            save_as: limited
          - request: Patients/Create patient
            auth: {refresh_token: "{{ limited }}"}
            scripts: false  # the collection's test script expects the 201
            expect: {status: 403}
          - request: Patients/Create patient
            expect: {status: 201}
            cleanup: Patients/Delete patient
        """,
    )
    assert [r.verdict for r in results] == [Verdict.PASSED] * 4
    assert "[REDACTED]" not in results[0].message  # nothing secret was there to print


def test_cli_runs_the_shipped_suites_in_file_order(tmp_path: Path) -> None:
    report = tmp_path / "report.json"
    done = subprocess.run(
        [
            str(HARNESS),
            "run",
            "scenarios/",
            "--workers",
            "3",
            "--json",
            str(report),
        ],
        cwd=paths.PROJECT_ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    data = json.loads(report.read_text())
    suites = list(dict.fromkeys(r["suite"] for r in data["results"]))
    assert suites == [
        "Appointment booking",
        "Error contracts",
        "Scope enforcement",
        "Patient registration [1]",
        "Patient registration [2]",
        "Token lifecycle",
    ]
    assert data["summary"]["failed"] == 0 and data["summary"]["errors"] == 0
    refreshed = [
        r for r in data["results"] if r["name"] == "The expired token is refreshed transparently"
    ]
    assert any("refreshed the token" in a["note"] for a in refreshed[0]["attempts"])


def test_cli_rejects_a_bad_file_before_sending(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("scenarios:\n  - name: A\n    steps:\n      - request: Patients/Nope\n")
    done = subprocess.run(
        [str(HARNESS), "run", str(bad), "--no-contracts"],
        cwd=paths.PROJECT_ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 2
    assert f"{bad}:4:18: no request 'Patients/Nope'" in done.stderr
    assert "Traceback" not in done.stderr
