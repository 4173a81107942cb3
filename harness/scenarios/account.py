"""Fill in ``doctor_id``, ``office_id`` and ``exam_room`` for a live run that does not give them.

The DrChrono collection's create requests need the account's doctor, an office and one of its exam
rooms. The sandbox sets them; for live DrChrono they are read once per run from the authorized
user (``GET /api/users/current``: its ``doctor``) and that doctor's offices (``GET /api/offices``:
the first one not archived, and its first exam room). A value given in the environment file or
with ``--env-var`` is used as it is. The requests go through the scenario executor, so they carry
the collection's OAuth and headers, and are recorded like any scenario's.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from harness.errors import InputError
from harness.scenarios.check import names_read
from harness.scenarios.expect import as_text
from harness.scenarios.loader import scenario_from_text
from harness.scenarios.model import Scenario

if TYPE_CHECKING:
    from harness.scenarios.steps import ScenarioExecutor

ACCOUNT_IDS = ("doctor_id", "office_id", "exam_room")
SUITE = "Account discovery (doctor_id, office_id, exam_room)"
_DOCTOR_STEP = """
  - name: The doctor of the authorized user
    url: "{{ base_url }}/api/users/current"
    expect: {status: 200, contract: false}
    capture: {doctor_id: "json: doctor"}
"""
_OFFICES_STEP = """
  - name: The doctor's first office and its first exam room
    url: "{{ base_url }}/api/offices"
    query: {doctor: "{{ doctor_id }}"}
    expect: {status: 200, contract: false}
    capture:
      office_id: "json: results[?!archived] | [0].id"
      exam_room: "json: results[?!archived] | [0].exam_rooms[0].index"
"""
_ROOM_STEP = """
  - name: The first exam room of the given office
    url: "{{ base_url }}/api/offices/{{ office_id }}"
    expect: {status: 200, contract: false}
    capture: {exam_room: "json: exam_rooms[0].index"}
"""


def fill_account_ids(executor: ScenarioExecutor, scenarios: Sequence[Scenario]) -> dict[str, str]:
    """Discover the account ids a live run of ``scenarios`` reads and lacks; return what was
    set (empty when nothing: another target, ids given, or scenarios that do not use them)."""
    session = executor.session
    scopes = session.scopes
    missing = [name for name in ACCOUNT_IDS if not scopes.defined(name)]
    if session.target != "live" or not missing or not scopes.defined("base_url"):
        return {}  # an undefined base_url is check_names's to report
    read = set().union(*(names_read(scenario) for scenario in scenarios))
    if not read.intersection(missing):
        return {}
    steps = _DOCTOR_STEP if "doctor_id" in missing else ""
    if "office_id" in missing:
        steps += _OFFICES_STEP
    elif "exam_room" in missing:
        steps += _ROOM_STEP
    scenario = scenario_from_text(
        f"name: {SUITE}\nsteps:{steps}", Path("<account discovery>"), session.collection
    )
    results, values = executor.values_of(scenario, SUITE)
    failed = next((r for r in results if r.verdict.is_bad), None)
    if failed is not None:
        problems = "; ".join(c.message for c in failed.failed_checks) or failed.message
        answer = f"HTTP {failed.status}" if failed.status is not None else "no response"
        raise InputError(
            f"The run needs {', '.join(missing)}, which the environment does not set, and "
            f"reading them from DrChrono failed at '{failed.name}' ({failed.method} "
            f"{failed.url}: {answer}; {problems}).",
            hint="Set them yourself: --env-var doctor_id=ID --env-var office_id=ID --env-var "
            "exam_room=INDEX (or in the environment file); docs/SCENARIOS.md says where to find "
            "them.",
        )
    found = {name: as_text(values[name]) for name in missing}
    scopes.environment.update(found)
    return found
