"""Recording a new scenario beside existing cassettes, as docs/SCENARIOS.md tells a QA engineer
to: the shared token cassette is never replayed into the recording run, and responses an existing
cassette answers are compared the way a replay compares them (patient data is pseudonyms)."""

from __future__ import annotations

import shutil
import textwrap
from pathlib import Path

from harness import paths
from tests.scenario_support import cli

NEW = """
name: Added later
steps:
  - request: Patients/List patients
  - request: Patients/Create patient
    cleanup: Patients/Delete patient
"""


def test_a_new_scenario_records_beside_existing_cassettes(tmp_path: Path) -> None:
    # The shipped patient scenario and its recording: it expects the first name it sent, which
    # its cassette holds as a pseudonym.
    scenarios = tmp_path / "scenarios"
    scenarios.mkdir()
    shutil.copy(paths.PROJECT_ROOT / "scenarios" / "patients.yaml", scenarios)
    shutil.copytree(
        paths.PROJECT_ROOT / "cassettes" / "scenarios", tmp_path / "cassettes" / "scenarios"
    )
    (scenarios / "added.yaml").write_text(textwrap.dedent(NEW))
    for mode in ("once", "new_episodes"):
        done = cli("run", "scenarios/", "--record", mode, "--no-contracts", cwd=tmp_path)
        # 'Patient registration' is answered by its cassette while a fresh sandbox serves
        # 'Added later' with a token of its own.
        assert done.code == 0, f"--record {mode}:\n{done.stdout}{done.stderr}"
        assert "401" not in done.stdout
    assert (tmp_path / "cassettes" / "scenarios" / "added-later.yaml").exists()

    replay = cli("run", "scenarios/", "--replay", "--no-contracts", cwd=tmp_path)
    assert replay.code == 0, replay.stdout + replay.stderr
