"""`harness run --shard K/N` and `harness report merge`: three shards merged equal one whole run."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from harness import paths
from harness.cli import main
from harness.reporters.json_report import SCHEMA_VERSION
from harness.sharding import Shard, select
from tests.conftest import PROJECT

pytest_plugins = ["pytester"]

# Independent folders land in shards by their names' hashes (Doctors 1, Offices 2, Users and
# Patients 3); "Doctor by id" reads the doctor_id that Users captures, so it runs with Users.
FOLDERS = {
    "Users": ["Users/Current user"],
    "Offices": ["Offices/List offices"],
    "Doctors": ["Doctors/List doctors"],
    "Patients": ["Patients/List patients"],
    "Doctor by id": ["Doctors/Retrieve doctor"],
}


def _collection(tmp_path: Path) -> Path:
    shipped = json.loads(paths.DEFAULT_COLLECTION.read_text())
    requests = {
        f"{folder['name']}/{item['name']}": item
        for folder in shipped["item"]
        for item in folder["item"]
    }
    shipped["item"] = [
        {"name": name, "item": [requests[path] for path in members]}
        for name, members in FOLDERS.items()
    ]
    path = tmp_path / "sharded.postman_collection.json"
    path.write_text(json.dumps(shipped))
    return path


def _run(tmp_path: Path, collection: Path, stem: str, *extra: str) -> int:
    return main(
        [
            "run",
            str(collection),
            "--json",
            str(tmp_path / f"{stem}.json"),
            "--junit",
            str(tmp_path / f"{stem}.xml"),
            *extra,
        ]
    )


def _same_host(text: str) -> str:
    """Each run starts its own sandbox, on a port of its own."""
    return re.sub(r"127\.0\.0\.1:\d+", "127.0.0.1:PORT", text)


def _without_timings(document: dict[str, Any]) -> dict[str, Any]:
    document = json.loads(_same_host(json.dumps(document)))
    for key in ("started_at", "finished_at"):
        document.pop(key)
    document["summary"].pop("elapsed_s")
    for row in document["results"]:
        row.pop("elapsed_ms")
        for attempt in row["attempts"]:
            attempt.pop("elapsed_ms")
    return document


def _junit_without_timings(path: Path) -> str:
    return re.sub(r' time="[0-9.]+"', "", _same_host(path.read_text()))


@pytest.fixture(scope="module")
def shards(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The collection run whole, then as shards 1/3, 2/3, 3/3 (each on its own sandbox)."""
    tmp_path = tmp_path_factory.mktemp("shards")
    collection = _collection(tmp_path)
    assert _run(tmp_path, collection, "whole") == 0
    for k in (1, 2, 3):
        assert _run(tmp_path, collection, f"shard{k}", "--shard", f"{k}/3") == 0
    return tmp_path


def test_each_folder_runs_in_exactly_one_shard_and_dependent_folders_together(
    shards: Path,
) -> None:
    suites = {}
    for k in (1, 2, 3):
        document = json.loads((shards / f"shard{k}.json").read_text())
        assert document["run"]["shard"] == f"{k}/3"
        assert document["run"]["planned"] == len(document["results"])
        suites[k] = {row["suite"] for row in document["results"]}
    assert suites == {1: {"Doctors"}, 2: {"Offices"}, 3: {"Users", "Patients", "Doctor by id"}}


def test_merged_shards_equal_the_whole_run(
    shards: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    inputs = [str(shards / f"shard{k}.json") for k in (3, 1, 2)]  # any order
    code = main(
        [
            "report",
            "merge",
            str(shards / "merged.json"),
            "--json",
            *inputs,
            "--junit",
            str(shards / "merged.xml"),
            "--html",
            str(shards / "merged.html"),
        ]
    )
    assert code == 0
    assert "merged 3 summaries: 5 results, 5 passed" in capsys.readouterr().out
    whole = json.loads((shards / "whole.json").read_text())
    merged = json.loads((shards / "merged.json").read_text())
    assert _without_timings(merged) == _without_timings(whole)
    schema = json.loads((PROJECT / "docs" / "summary.schema.json").read_text())
    for document in (merged, json.loads((shards / "shard2.json").read_text())):
        jsonschema.Draft202012Validator(schema).validate(document)
    assert _junit_without_timings(shards / "merged.xml") == _junit_without_timings(
        shards / "whole.xml"
    )
    assert "Doctor by id" in (shards / "merged.html").read_text()


def test_merge_refuses_a_missing_shard_and_another_schema_version(
    shards: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "merged.json"
    code = main(["report", "merge", str(out), "--json", str(shards / "shard1.json")])
    assert code == 2 and not out.exists()
    assert "Shards 2/3, 3/3 missing" in capsys.readouterr().err

    old = json.loads((shards / "shard2.json").read_text())
    old["schema_version"] = SCHEMA_VERSION + 1
    (tmp_path / "old.json").write_text(json.dumps(old))
    inputs = [str(shards / "shard1.json"), str(tmp_path / "old.json"), str(shards / "shard3.json")]
    code = main(["report", "merge", str(out), "--json", *inputs])
    assert code == 2 and not out.exists()
    err = capsys.readouterr().err
    assert "old.json: JSON summary schema_version" in err and f"version {SCHEMA_VERSION}" in err


def test_a_new_folder_moves_no_other_folder() -> None:
    names = [f"Folder {i}" for i in range(40)]
    shard = Shard(2, 4)
    before = select(names, shard, key=str)
    after = select([*names[:10], "A new folder", *names[10:]], shard, key=str)
    assert [n for n in after if n != "A new folder"] == before


def test_a_bad_shard_is_refused_with_exit_2(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["run", "--shard", "4/3"]) == 2
    assert "--shard '4/3' is not a shard" in capsys.readouterr().err


SHARDED_SCENARIOS = """
scenarios:
  - name: Listing
    data: [{size: 1}, {size: 2}]
    steps:
      - request: Patients/List patients
        query: {page_size: "{{ size }}"}
  - name: Alpha
    steps: [{request: Offices/List offices}]
  - name: Beta
    steps: [{request: Doctors/List doctors}]
"""


@pytest.mark.slow
def test_pytest_shards_scenario_items_as_the_cli_does_and_leaves_other_tests_alone(
    pytester: pytest.Pytester,
) -> None:
    pytester.makeini("[pytest]\nharness_scenarios = scenarios\n")
    (pytester.path / "scenarios").mkdir()
    (pytester.path / "scenarios" / "flows.yaml").write_text(SHARDED_SCENARIOS)
    pytester.makepyfile(test_own="def test_mine():\n    pass\n")
    flows = "scenarios/flows.yaml::"

    def collected(*options: str) -> set[str]:
        result = pytester.runpytest("-p", "no:cacheprovider", "--collect-only", "-q", *options)
        return {line for line in result.stdout.lines if "::" in line}

    # Listing [1] and [2] stay together, in the shard `harness run --shard` gives "Listing".
    assert [k for k in (1, 2, 3) if Shard(k, 3).owns("Listing")] == [1]
    assert collected("--drchrono-shard=1/3") == {
        f"{flows}Listing [1]",
        f"{flows}Listing [2]",
        "test_own.py::test_mine",
    }
    pytester.makeini("[pytest]\nharness_scenarios = scenarios\ndrchrono_shard = 3/3\n")
    assert collected() == {f"{flows}Beta", "test_own.py::test_mine"}


def test_merge_refuses_a_malformed_summary_naming_it(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    broken = tmp_path / "broken.json"
    broken.write_text(json.dumps({"schema_version": SCHEMA_VERSION, "run": {}}))
    assert main(["report", "merge", str(tmp_path / "m.json"), "--json", str(broken)]) == 2
    assert f"{broken}: JSON summary without its 'summary'" in capsys.readouterr().err
    broken.write_text("{not json")
    assert main(["report", "merge", str(tmp_path / "m.json"), "--json", str(broken)]) == 2
    assert "broken.json is not valid JSON" in capsys.readouterr().err
