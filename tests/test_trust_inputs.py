"""Issue #12, inputs: templates see only declared values, user text never escapes its directory,
and oversized or hostile input is refused with a clear message instead of hanging or crashing."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

from harness import paths
from tests.conftest import run_cli

SANDBOX_ENV = str(paths.SANDBOX_ENVIRONMENT)


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(text).lstrip("\n"), encoding="utf-8")
    return path


# --- Blocker 1: templates cannot read the OS environment -------------------------------------


def test_a_template_cannot_read_the_os_environment(tmp_path: Path) -> None:
    scenario = write(
        tmp_path / "leak.yaml",
        """
        scenarios:
          - name: Leak
            steps:
              - request: Patients/List patients
                query: {leak: "{{ env.HARNESS_TEST_OS_SECRET }}"}
        """,
    )
    report = tmp_path / "report.json"
    done = run_cli(
        "run",
        str(scenario),
        "-e",
        SANDBOX_ENV,
        "--no-contracts",
        "--json",
        str(report),
        env={"HARNESS_TEST_OS_SECRET": "os-secret-value-42"},
        timeout=60,
    )
    assert done.code == 2, done.stdout + done.stderr
    assert f"{scenario}:4:" in done.stderr and "'env'" in done.stderr
    assert "os-secret-value-42" not in done.stdout + done.stderr
    assert not report.exists() or "os-secret-value-42" not in report.read_text()


def test_an_os_supplied_variable_is_masked_in_reports(tmp_path: Path) -> None:
    environment = tmp_path / "env.json"
    environment.write_text(
        json.dumps(
            {
                "values": [
                    {"key": "harness_target", "value": "sandbox"},
                    {"key": "marker", "value": "from-the-file"},
                ]
            }
        )
    )
    scenario = write(
        tmp_path / "marker.yaml",
        """
        scenarios:
          - name: Marker
            steps:
              - request: Patients/List patients
                query: {marker: "{{ marker }}"}
        """,
    )
    report = tmp_path / "report.json"
    done = run_cli(
        "run",
        str(scenario),
        "-e",
        str(environment),
        "--no-contracts",
        "--json",
        str(report),
        env={"DRCHRONO_MARKER": "os-value-77431"},
        timeout=60,
    )
    assert done.code == 0, done.stdout + done.stderr
    text = report.read_text()
    assert "marker=" in text
    assert "os-value-77431" not in text + done.stdout + done.stderr
