"""`harness run --shard K/N` and `harness report merge`: three shards merged equal one whole run."""

from __future__ import annotations

import contextlib
import io
import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from harness import paths
from harness.cli import main
from harness.collection import load_collection
from harness.collection_plan import CollectionPass, plan_units, shard_units
from harness.reporters.json_report import SCHEMA_VERSION
from harness.sharding import Shard, select, with_dependencies
from tests.conftest import PROJECT

pytest_plugins = ["pytester"]

SMOKE = paths.DEFAULT_COLLECTION  # every folder reads the doctor_id that Users captures
FULL = PROJECT / "collections" / "drchrono-api.postman_collection.json"  # Setup ... Teardown


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


def _comparable(text: str) -> str:
    """Each run starts its own sandbox, on a port of its own, and its new records get ids and
    uuids of their own (a shard makes fewer records before a folder than the whole run did)."""
    text = re.sub(r"127\.0\.0\.1:\d+", "127.0.0.1:PORT", text)
    text = re.sub(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}", "UUID", text)
    return re.sub(r"(?<![\d.])\d{6,}(?![\d.])", "ID", text)


def _without_timings(document: dict[str, Any]) -> dict[str, Any]:
    document = json.loads(_comparable(json.dumps(document)))
    for key in ("started_at", "finished_at"):
        document.pop(key)
    document["summary"].pop("elapsed_s")
    for row in document["results"]:
        row.pop("elapsed_ms")
        for attempt in row["attempts"]:
            attempt.pop("elapsed_ms")
    return document


def _junit_without_timings(path: Path) -> str:
    return re.sub(r' time="[0-9.]+"', "", _comparable(path.read_text()))


def _merge(tmp_path: Path, capsys: pytest.CaptureFixture[str], *, code: int = 0) -> str:
    """Merge the shards' summaries (exit 1: a merged failure fails the CI job as the run did)."""
    inputs = [str(tmp_path / f"shard{k}.json") for k in (3, 1, 2)]  # any order
    merged = main(
        [
            "report",
            "merge",
            str(tmp_path / "merged.json"),
            "--json",
            *inputs,
            "--junit",
            str(tmp_path / "merged.xml"),
            "--html",
            str(tmp_path / "merged.html"),
        ]
    )
    assert merged == code
    return capsys.readouterr().out


def _assert_merged_equals_whole(tmp_path: Path) -> None:
    whole = json.loads((tmp_path / "whole.json").read_text())
    merged = json.loads((tmp_path / "merged.json").read_text())
    assert _without_timings(merged) == _without_timings(whole)
    assert _junit_without_timings(tmp_path / "merged.xml") == _junit_without_timings(
        tmp_path / "whole.xml"
    )


def _suites(tmp_path: Path, k: int) -> set[str]:
    document = json.loads((tmp_path / f"shard{k}.json").read_text())
    assert document["run"]["shard"] == f"{k}/3"
    assert document["run"]["planned"] == len(document["results"])
    return {row["suite"] for row in document["results"]}


@pytest.fixture(scope="module")
def smoke(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[int, str]]:
    """The shipped smoke collection run whole, then as shards 1/3, 2/3, 3/3."""
    tmp_path = tmp_path_factory.mktemp("smoke")
    return tmp_path, _sharded(tmp_path, SMOKE)


def _sharded(tmp_path: Path, collection: Path) -> dict[int, str]:
    """``collection`` run whole, then as shards 1/3, 2/3, 3/3, each on its own sandbox; the
    shards' console output."""
    consoles = {}
    for stem, extra in [("whole", ()), *((f"shard{k}", ("--shard", f"{k}/3")) for k in (1, 2, 3))]:
        out = io.StringIO()
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(out):
            assert _run(tmp_path, collection, stem, *extra) in (0, 1)
        if stem != "whole":
            consoles[int(stem[-1])] = out.getvalue()
    return consoles


def test_the_smoke_collection_splits_and_each_shard_runs_what_its_folders_need(
    smoke: tuple[Path, dict[int, str]],
) -> None:
    tmp_path, consoles = smoke
    suites = {k: _suites(tmp_path, k) for k in (1, 2, 3)}
    # Every folder reads the doctor_id that Users captures, yet the five folders spread over
    # the three shards: each is reported by exactly one of them.
    assert sorted(folder for k in suites for folder in suites[k]) == sorted(
        ["Users", "Offices", "Doctors", "Patients", "Appointments"]
    )
    assert all(suites.values())
    for k in (1, 2, 3):
        if "Users" not in suites[k]:  # it still ran, first, for this shard's folders
            assert f"shard {k}/3 also runs 'Users'" in consoles[k]
            assert "left out of this shard's reports" in consoles[k]
    document = json.loads((tmp_path / "shard3.json").read_text())
    assert document["summary"]["failed"] == document["summary"]["errors"] == 0


def test_merged_smoke_shards_equal_the_whole_run(
    smoke: tuple[Path, dict[int, str]], capsys: pytest.CaptureFixture[str]
) -> None:
    tmp_path, _ = smoke
    assert "merged 3 summaries: 17 results, 17 passed" in _merge(tmp_path, capsys)
    _assert_merged_equals_whole(tmp_path)
    schema = json.loads((PROJECT / "docs" / "summary.schema.json").read_text())
    merged = json.loads((tmp_path / "merged.json").read_text())
    for document in (merged, json.loads((tmp_path / "shard2.json").read_text())):
        jsonschema.Draft202012Validator(schema).validate(document)
    assert "Appointments" in (tmp_path / "merged.html").read_text()


def test_merged_not_run_entries_come_in_plan_order_as_one_run_lists_them(
    smoke: tuple[Path, dict[int, str]], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # As `--no-scripts` lists them: the collection's scripts, then each planned request's.
    collection = {"where": "the collection", "what": "pre-request script: not run"}
    inputs = []
    for k in (1, 2, 3):
        document = json.loads((smoke[0] / f"shard{k}.json").read_text())
        document["not_run"] = [collection] + [
            {"where": f"request {row['suite']}/{row['name']}", "what": "test script: not run"}
            for row in document["results"]
        ]
        (tmp_path / f"shard{k}.json").write_text(json.dumps(document))
        inputs.append(str(tmp_path / f"shard{k}.json"))
    merged = tmp_path / "merged.json"
    assert main(["report", "merge", str(merged), "--json", *inputs]) == 0
    whole = json.loads((smoke[0] / "whole.json").read_text())
    assert [entry["where"] for entry in json.loads(merged.read_text())["not_run"]] == [
        "the collection",
        *(f"request {row['suite']}/{row['name']}" for row in whole["results"]),
    ]


@pytest.mark.slow
def test_the_full_collection_in_three_shards_merges_into_the_whole_run(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    consoles = _sharded(tmp_path, FULL)
    suites = {k: _suites(tmp_path, k) for k in (1, 2, 3)}
    # 92 folders, 30 or 31 a shard, each reported once.
    counts = sorted(len(found) for found in suites.values())
    assert sum(counts) == 92 and counts[-1] - counts[0] <= 1
    assert not (suites[1] & suites[2] or suites[1] & suites[3] or suites[2] & suites[3])
    for k in (1, 2, 3):
        # Every shard made Setup's records and deleted them (Teardown reads Setup's ids and
        # only deletes): run for the shard's folders where it does not own them.
        for folder in ("Setup", "Teardown"):
            assert folder in suites[k] or f"'{folder}'" in consoles[k].split("also runs")[1]
    # A Setup request that does not pass is reported once, by Setup's owner; the other shards
    # warn of it, as their own folders' failures may come from it.
    whole_rows = json.loads((tmp_path / "whole.json").read_text())["results"]
    bad_setup = [
        r["name"] for r in whole_rows if r["suite"] == "Setup" and r["verdict"] != "passed"
    ]
    for k in (1, 2, 3):
        if "Setup" not in suites[k] and bad_setup:
            assert f"did not pass: Setup/{bad_setup[0]}" in consoles[k]
    # Whatever the whole run found, the merged shards find: the same rows, once each.
    whole = json.loads((tmp_path / "whole.json").read_text())["summary"]
    merged = _merge(tmp_path, capsys, code=int(not whole["ok"]))
    assert f"merged 3 summaries: {len(whole_rows)} results" in merged
    _assert_merged_equals_whole(tmp_path)


def test_merge_refuses_a_missing_shard_and_another_schema_version(
    smoke: tuple[Path, dict[int, str]], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    shards = smoke[0]
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


def test_a_new_folder_moves_at_most_one_other_folder_per_cut() -> None:
    names = [f"Folder {i}" for i in range(40)]
    for k in (1, 2, 3, 4):
        before = select(names, Shard(k, 4), key=str)
        after = select([*names[:10], "A new folder", *names[10:]], Shard(k, 4), key=str)
        moved = set(before) ^ {n for n in after if n != "A new folder"}
        assert len(moved) <= 2  # a shard has two cuts (one at either end)
    shards = [select(names, Shard(k, 4), key=str) for k in (1, 2, 3, 4)]
    assert sorted(map(len, shards)) == [10, 10, 10, 10]


@dataclass(frozen=True)
class Folder:
    name: str
    reads: frozenset[str] = frozenset()  # the folders whose captures it reads
    only_deletes: bool = False


def _plan(folders: list[Folder], shard: Shard) -> dict[str, bool]:
    runs = with_dependencies(
        folders,
        shard,
        key=lambda folder: folder.name,
        depends_on=lambda folder: folder.reads,
        cleans_up=lambda folder: folder.only_deletes,
    )
    return {run.unit.name: run.owned for run in runs}


def test_a_shard_runs_its_folders_dependencies_and_their_clean_ups_whatever_their_names() -> None:
    make = Folder("Make records")
    chain = Folder("Chained", frozenset({"Make records"}))
    folders = [
        make,
        chain,
        Folder("Reads the chain", frozenset({"Chained"})),
        *(Folder(f"Alone {i}") for i in range(9)),
        Folder("Remove records", frozenset({"Make records"}), only_deletes=True),
    ]
    plans = [_plan(folders, Shard(k, 3)) for k in (1, 2, 3)]
    for plan in plans:
        owned = {name for name, own in plan.items() if own}
        if "Reads the chain" in owned:  # the whole chain runs, in plan order, and is cleaned
            assert list(plan)[:3] == ["Make records", "Chained", "Reads the chain"]
        if "Make records" in plan:  # whoever makes the records deletes them
            assert list(plan)[-1] == "Remove records"
        assert not any(name.startswith("Alone") for name in plan if not plan[name])
    # Each folder is owned (reported) by exactly one shard.
    owners = [name for plan in plans for name, own in plan.items() if own]
    assert sorted(owners) == sorted(folder.name for folder in folders)


@pytest.mark.parametrize("collection", [SMOKE, FULL], ids=["smoke", "full"])
@pytest.mark.parametrize("count", [3, 8])
def test_shards_own_equal_numbers_of_folders(collection: Path, count: int) -> None:
    units = plan_units(list(load_collection(collection).requests()))
    owned = [
        sum(run.owned for run in shard_units(units, Shard(k, count))) for k in range(1, count + 1)
    ]
    assert sum(owned) == len(units) and max(owned) - min(owned) <= 1


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
    owner = [k for k in (1, 2, 3) if "Listing" in Shard(k, 3).owned(["Listing", "Alpha", "Beta"])]
    assert owner == [3]
    assert collected("--drchrono-shard=3/3") == {
        f"{flows}Listing [1]",
        f"{flows}Listing [2]",
        "test_own.py::test_mine",
    }
    pytester.makeini("[pytest]\nharness_scenarios = scenarios\ndrchrono_shard = 1/3\n")
    assert collected() == {f"{flows}Beta", "test_own.py::test_mine"}


@pytest.mark.slow
def test_pytest_runs_a_shards_request_items_after_the_folders_they_need(
    pytester: pytest.Pytester,
) -> None:
    # Shard 3/3 of the smoke collection owns Appointments, whose requests read the doctor_id
    # Users captures and the office Offices captures: both run first, as no test item.
    units = plan_units(list(load_collection(SMOKE).requests()))
    runs = shard_units(units, Shard(3, 3))
    assert [(run.unit.name, run.owned) for run in runs] == [
        ("Users", False),
        ("Offices", False),
        ("Appointments", True),
    ]
    result = pytester.runpytest_subprocess(
        "-p", "no:cacheprovider", "--harness-collection", str(SMOKE), "--drchrono-shard", "3/3"
    )
    result.assert_outcomes(passed=len(runs[-1].unit.items), deselected=10)
    result.stdout.fnmatch_lines(["shard 3/3 also runs 'Users', 'Offices', which its own*"])


def test_merge_refuses_a_malformed_summary_naming_it(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    broken = tmp_path / "broken.json"
    broken.write_text(json.dumps({"schema_version": SCHEMA_VERSION, "run": {}}))
    assert main(["report", "merge", str(tmp_path / "m.json"), "--json", str(broken)]) == 2
    assert f"{broken}: JSON summary without its 'summary'" in capsys.readouterr().err
    broken.write_text("{not json")
    assert main(["report", "merge", str(tmp_path / "m.json"), "--json", str(broken)]) == 2
    err = capsys.readouterr().err
    assert "broken.json is not valid JSON" in err
    assert "Run that shard again with --json" in err and "Postman" not in err


def test_under_workers_the_teardown_waits_for_every_folder_using_setups_records() -> None:
    units = plan_units(list(load_collection(FULL).requests()))
    cleaning = [unit.name for unit in units if unit.cleans_up]
    assert cleaning == ["Teardown"]  # found by what it does: it only deletes Setup's records
    unused: Any = None  # the folders are only scheduled here, never run
    run_pass = CollectionPass(exchange=unused, scopes=unused, sender_for=unused)
    folders = {folder.name: folder for folder in run_pass.units(shard_units(units, None))}
    using_setup = {unit.name for unit in units if "Setup" in unit.depends_on}
    assert using_setup - {"Teardown"} <= folders["Teardown"].depends_on
    assert "users" not in folders["Teardown"].depends_on  # reads nothing Setup made
