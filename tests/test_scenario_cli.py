"""Scenarios as a QA engineer drives them from the command line: listing request names, a live
run that finds its doctor, office and exam room itself."""

from __future__ import annotations

import json
import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest

from drchrono_sandbox import Sandbox, SandboxConfig
from tests.scenario_support import cli


@pytest.fixture(scope="module")
def live_sandbox() -> Iterator[Sandbox]:
    """A sandbox reached as 'live' DrChrono (an environment file without harness_target)."""
    with Sandbox(SandboxConfig(seed=7), host="127.0.0.1", port=0) as running:
        yield running


def write(path: Path, text: str) -> Path:
    path.write_text(textwrap.dedent(text).lstrip("\n"))
    return path


def live_environment(sandbox: Sandbox, path: Path, *, without: tuple[str, ...]) -> Path:
    values = {k: v for k, v in sandbox.environment().items() if k not in without}
    values["refresh_token"] = sandbox.issue_refresh_token()  # each run rotates its own
    path.write_text(
        json.dumps({"values": [{"key": k, "value": v, "enabled": True} for k, v in values.items()]})
    )
    return path


def test_list_prints_the_request_names_scenarios_use() -> None:
    done = cli("run", "--list")
    assert done.code == 0, done.stderr
    lines = done.stdout.splitlines()
    assert "Patients/Create patient" in lines and "Appointments/List appointments by date" in lines
    assert lines[0] == "Users/Current user"  # collection order
    assert "Summary" not in done.stdout  # nothing was run


def test_list_refuses_scenario_files() -> None:
    done = cli("run", "--list", "scenarios/")
    assert done.code == 2
    assert "--list lists the requests of one collection" in done.stderr


BOOKING = """
name: Live booking
steps:
  - request: Patients/Create patient
    cleanup: Patients/Delete patient
  - request: Appointments/Create appointment
    variables: {appointment_patient_id: "{{ patient_id }}"}
    json: {scheduled_time: "2031-02-03T10:00:00"}
    expect:
      status: 201
      json: {doctor: "{{ doctor_id | int }}", office: "{{ office_id | int }}"}
    capture: {appointment_id: "json: id"}
    cleanup: Appointments/Delete appointment
"""


def test_live_runs_find_doctor_office_and_exam_room(live_sandbox: Sandbox, tmp_path: Path) -> None:
    environment = live_environment(
        live_sandbox, tmp_path / "live.json", without=("doctor_id", "office_id", "exam_room")
    )
    scenario = write(tmp_path / "booking.yaml", BOOKING)
    report = tmp_path / "report.json"
    done = cli(
        "run",
        str(scenario),
        "-e",
        str(environment),
        "--token-store",
        str(tmp_path / "tokens.json"),
        "--no-contracts",
        "--json",
        str(report),
    )
    assert done.code == 0, done.stdout + done.stderr
    results = json.loads(report.read_text())["results"]
    assert [r["verdict"] for r in results] == ["passed"] * 4
    # The discovery itself is not a step of the user's scenario.
    assert {r["suite"] for r in results} == {"Live booking"}


def test_live_discovery_failure_says_what_to_set(live_sandbox: Sandbox, tmp_path: Path) -> None:
    environment = live_environment(
        live_sandbox, tmp_path / "live.json", without=("office_id", "exam_room")
    )
    scenario = write(tmp_path / "booking.yaml", BOOKING)
    done = cli(
        "run",
        str(scenario),
        "-e",
        str(environment),
        "--env-var",
        "office_id=999999",  # exam_room is read from this office, which does not exist
        "--token-store",
        str(tmp_path / "tokens.json"),
        "--no-contracts",
    )
    assert done.code == 2, done.stdout + done.stderr
    assert "The run needs exam_room" in done.stderr
    assert "HTTP 404" in done.stderr, done.stderr
    assert "--env-var doctor_id=ID" in done.stderr, done.stderr


def test_live_runs_ask_nothing_when_no_scenario_needs_the_ids(
    live_sandbox: Sandbox, tmp_path: Path
) -> None:
    environment = live_environment(
        live_sandbox, tmp_path / "live.json", without=("doctor_id", "office_id", "exam_room")
    )
    scenario = write(
        tmp_path / "list.yaml", "name: Just a list\nsteps:\n  - request: Patients/List patients\n"
    )
    live_sandbox.reset_request_counts()
    done = cli(
        "run",
        str(scenario),
        "-e",
        str(environment),
        "--token-store",
        str(tmp_path / "tokens.json"),
        "--no-contracts",
    )
    assert done.code == 0, done.stdout + done.stderr
    assert live_sandbox.request_count("/api/users") == 0
    assert live_sandbox.request_count("/api/offices") == 0
