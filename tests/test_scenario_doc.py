"""The full example of docs/SCENARIOS.md passes against the sandbox as written, so the page a QA
engineer copies from cannot drift from what the harness does."""

from __future__ import annotations

import json
import re
from pathlib import Path

from harness import paths
from tests.scenario_support import cli

DOC = paths.PROJECT_ROOT / "docs" / "SCENARIOS.md"


def full_example() -> str:
    text = DOC.read_text(encoding="utf-8")
    section = text.split("## A full example", 1)[1]
    found = re.search(r"```yaml\n(.*?)```", section, re.S)
    assert found, "docs/SCENARIOS.md lost the YAML block of 'A full example'"
    return found.group(1)


def test_the_documented_example_passes_against_the_sandbox(tmp_path: Path) -> None:
    example = tmp_path / "example.yaml"
    example.write_text(full_example(), encoding="utf-8")
    report = tmp_path / "report.json"
    done = cli("run", str(example), "--json", str(report))
    assert done.code == 0, done.stdout + done.stderr
    results = json.loads(report.read_text())["results"]
    # Both data rows ran every step and every cleanup; the second row's token expiry recovered
    # like the first one's.
    assert len(results) == 18 and all(r["verdict"] == "passed" for r in results)
    refreshed = [r for r in results if any("refreshed" in a["note"] for a in r["attempts"])]
    assert [r["suite"] for r in refreshed] == ["Appointment booking [1]", "Appointment booking [2]"]
