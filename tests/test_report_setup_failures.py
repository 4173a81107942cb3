"""Exit-2 runs still write the reports asked for, saying why; the JSON summary follows its
published schema (docs/summary.schema.json), with a version and UTC timestamps."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from harness.cli import main
from tests.conftest import PROJECT

SCHEMA = json.loads((PROJECT / "docs" / "summary.schema.json").read_text())


def _reports(tmp_path: Path) -> list[str]:
    return [
        "--json",
        str(tmp_path / "s.json"),
        "--junit",
        str(tmp_path / "j.xml"),
        "--html",
        str(tmp_path / "r.html"),
    ]


def _valid_summary(path: Path) -> dict[str, Any]:
    document: dict[str, Any] = json.loads(path.read_text())
    jsonschema.Draft202012Validator(SCHEMA).validate(document)
    started = datetime.fromisoformat(document["started_at"])
    finished = datetime.fromisoformat(document["finished_at"])
    assert started.utcoffset() == finished.utcoffset() == timedelta(0)
    assert started <= finished <= datetime.now(UTC)
    return document


def test_a_passing_run_writes_a_summary_that_follows_the_published_schema(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    assert main(["run", "--folder", "Patients", *_reports(tmp_path)]) == 0
    document = _valid_summary(tmp_path / "s.json")
    assert document["schema_version"] == 1 and document["fatal"] is None
    assert document["summary"]["ok"] is True and document["summary"]["total"] == 5
    assert [row["plan_position"] for row in document["results"]] == [0, 1, 2, 3, 4]


def test_bad_input_still_writes_every_report_saying_why(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    assert main(["run", "missing.postman_collection.json", *_reports(tmp_path)]) == 2
    why = "The collection file missing.postman_collection.json does not exist."
    assert why in capsys.readouterr().err
    document = _valid_summary(tmp_path / "s.json")
    assert why in document["fatal"] and document["summary"]["ok"] is False
    assert document["run"]["target"] == "not started" and document["results"] == []
    suites = ET.parse(tmp_path / "j.xml").getroot()
    assert suites.get("errors") == "1"
    error = suites.find("testsuite[@name='set-up']/testcase/error")
    assert error is not None and why in (error.get("message") or "")
    page = (tmp_path / "r.html").read_text()
    assert "The run stopped before its end" in page and "missing.postman_collection.json" in page


def test_refused_credentials_write_the_reports_with_the_fatal_reason(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    wrong = "not-the-client-secret-0123456789"
    code = main(["run", "--env-var", f"client_secret={wrong}", *_reports(tmp_path)])
    assert code == 2
    document = _valid_summary(tmp_path / "s.json")
    assert "invalid_client" in document["fatal"] and document["summary"]["ok"] is False
    suites = ET.parse(tmp_path / "j.xml").getroot()
    assert suites.find("testsuite[@name='set-up']/testcase/error") is not None
    for report in ("s.json", "j.xml", "r.html"):
        assert wrong not in (tmp_path / report).read_text()


def test_the_published_schema_names_every_cause_the_harness_reports() -> None:
    from harness.results import Cause

    schema = json.loads((Path(__file__).parents[1] / "docs" / "summary.schema.json").read_text())
    assert set(schema["$defs"]["result"]["properties"]["cause"]["enum"]) == {c.value for c in Cause}
