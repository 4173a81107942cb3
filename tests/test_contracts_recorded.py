"""`harness contracts diff --cassettes`: the contracts against what recorded traffic contains."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import yaml

from tests.conftest import PROJECT, run_cli

RECORDED = PROJECT / "cassettes" / "drchrono-api-harness" / "doctors.yaml"


def tamper(tmp_path: Path) -> Path:
    """A copy of a recorded cassette where the doctor gained a field and changed a type."""
    copy = tmp_path / "doctors.yaml"
    shutil.copy(RECORDED, copy)
    document = yaml.safe_load(copy.read_text())
    for interaction in document["interactions"]:
        if interaction["request"]["uri"].rstrip("/").split("/")[-1].isdigit():
            body = json.loads(interaction["response"]["body"]["string"])
            body["new_field"] = "x"
            body["first_name"] = 12
            interaction["response"]["body"]["string"] = json.dumps(body)
    copy.write_text(yaml.safe_dump(document))
    return copy


def test_recorded_traffic_matches_the_contracts() -> None:
    result = run_cli("contracts", "diff", "contracts/", "--cassettes", "cassettes/")
    assert result.code == 0, result.stdout + result.stderr
    assert "0 breaking, 0 additive" in result.stdout


def test_changed_type_is_breaking_and_a_new_field_additive(tmp_path: Path) -> None:
    result = run_cli("contracts", "diff", "contracts/", "--cassettes", str(tamper(tmp_path)))
    assert result.code == 1
    assert "breaking: $.first_name" in result.stdout
    assert "additive: $.new_field is not in the contract" in result.stdout


def test_diff_needs_two_directories_or_cassettes() -> None:
    result = run_cli("contracts", "diff", "contracts/")
    assert result.code == 2 and "--cassettes" in result.stderr
