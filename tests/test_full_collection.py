"""The full DrChrono collection: generated reproducibly from the contracts, green on the sandbox."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path
from typing import Any

import pytest

from harness.cli import main
from harness.contracts.collection_gen import generate_collection
from tests.conftest import PROJECT, run_cli

SHIPPED = PROJECT / "collections" / "drchrono-api.postman_collection.json"
CONTRACTS = PROJECT / "contracts"
ERROR_NAME = re.compile(r": (\d{3}) ")


def _requests(items: list[dict[str, object]]) -> list[dict[str, object]]:
    found: list[dict[str, object]] = []
    for item in items:
        children = item.get("item")
        found += _requests(children) if isinstance(children, list) else [item]
    return found


def test_shipped_collection_equals_a_fresh_generation() -> None:
    assert generate_collection(CONTRACTS) == SHIPPED.read_text(encoding="utf-8"), (
        "regenerate: harness contracts collection --out collections/drchrono-api.postman_collection.json"
    )


def test_every_api_operation_has_a_request_and_families_chain_their_records() -> None:
    collection = json.loads(SHIPPED.read_text(encoding="utf-8"))
    index = json.loads((CONTRACTS / "index.json").read_text(encoding="utf-8"))["operations"]
    api = {k for k in index if k.split(" ", 1)[1].startswith("/api/")} - {"GET /api/users/current"}
    assert len(api) == 327
    sent = set()
    for request in _requests(collection["item"]):
        req = request["request"]
        assert isinstance(req, dict)
        path = "/" + "/".join(req["url"]["path"])
        template = re.sub(r"\{\{[a-z_]+\}\}", "{id}", path)
        sent.add(f"{req['method']} {template}")
    assert api <= sent
    patients = next(f for f in collection["item"] if f["name"] == "patients")
    names = [r["name"] for r in patients["item"]]
    assert names.index("Create patients") < names.index("Retrieve patients")
    assert names[-1] == "Delete patients"  # deletes last
    create = patients["item"][names.index("Create patients")]["event"][0]["script"]["exec"]
    assert 'pm.collectionVariables.set("patients_id", pm.response.json().id);' in create


def test_hand_edits_are_data_and_check_reports_a_stale_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    plan = (CONTRACTS / "collection.yaml").read_text(encoding="utf-8")
    edited = tmp_path / "plan.yaml"
    edited.write_text(
        plan.replace("skip: {}", 'skip: {"GET /api/staff/{id}": "not in this practice"}'),
        encoding="utf-8",
    )
    out = tmp_path / "full.json"
    assert main(["contracts", "collection", "--out", str(out), "--plan", str(edited)]) == 0
    assert "/api/staff/{{staff_id}}" not in out.read_text(encoding="utf-8")
    assert main(["contracts", "collection", "--out", str(out), "--check"]) == 1
    assert "regenerate it with" in capsys.readouterr().out
    stale = tmp_path / "stale.yaml"
    stale.write_text(plan.replace('"GET /api/insurances":', '"GET /api/insurers":'), "utf-8")
    assert main(["contracts", "collection", "--out", str(out), "--plan", str(stale)]) == 2
    assert "queries 'GET /api/insurers'" in capsys.readouterr().err
    broken = tmp_path / "broken.yaml"
    broken.write_text("version: 2\n", encoding="utf-8")
    assert main(["contracts", "collection", "--out", str(out), "--plan", str(broken)]) == 2
    assert "is not a collection plan" in capsys.readouterr().err


def _figures(summary_path: Path) -> tuple[float, dict[str, int]]:
    """(share of the 327 operations green, passing requests per error class).

    An operation counts as not green for each request on its success path that did not pass
    (a request that never reached its operation cannot name it, so none are matched by name).
    """
    results = json.loads(summary_path.read_text(encoding="utf-8"))["results"]
    failed = 0
    errors: dict[str, int] = {}
    for result in results:
        ok = result["verdict"] == "passed"
        named = ERROR_NAME.search(result["name"])
        if named or result["suite"] in ("Conflicts", "Throttling"):
            code = named.group(1) if named else str(result["status"])
            errors[code] = errors.get(code, 0) + ok
        elif not ok:
            failed += 1
    return (327 - failed) / 327, errors


@pytest.mark.slow
def test_full_collection_against_the_sandbox_then_from_cassettes(tmp_path: Path) -> None:
    cassettes = tmp_path / "cassettes"
    live = run_cli(
        "run", str(SHIPPED), "--record", "--cassette-dir", str(cassettes),
        "--json", str(tmp_path / "live.json"),
    )  # fmt: skip
    assert live.code == 0, live.stdout + live.stderr
    replay = run_cli(
        "run", str(SHIPPED), "--replay", "--cassette-dir", str(cassettes),
        "--json", str(tmp_path / "replay.json"),
    )  # fmt: skip
    assert replay.code == 0, replay.stdout + replay.stderr
    for summary in ("live.json", "replay.json"):
        share, errors = _figures(tmp_path / summary)
        assert share == 1.0, (summary, share)  # README: all 327 operations green
        assert errors == {
            "404": 72, "401": 88, "403": 77, "400": 54, "409": 2, "429": 1,
        }, summary  # fmt: skip
    coverage = run_cli("contracts", "coverage", "--from", str(tmp_path / "live.json"))
    assert coverage.code == 0
    covered = re.search(r"Covered (\d+) of 330 operations", coverage.stdout)
    assert covered and int(covered.group(1)) == 328
    shutil.rmtree(cassettes)


def test_bodies_send_ids_as_numbers_times_in_order_and_probes_their_required_query() -> None:
    collection = json.loads(SHIPPED.read_text(encoding="utf-8"))
    requests: list[dict[str, Any]] = _requests(collection["item"])
    bodies = []
    for request in requests:
        raw = request["request"].get("body", {}).get("raw")
        if raw:  # an unquoted {{variable}} is a number once substituted
            bodies.append(json.loads(re.sub(r"(?<!\")\{\{[a-z_]+\}\}(?!\")", "1", raw)))
    rooms = [body["exam_room"] for body in bodies if "exam_room" in body]
    assert rooms and all(room == 1 for room in rooms)  # an integer, never "{{exam_room}}"
    spans = [
        (b["start_time"], b["end_time"]) for b in bodies if {"start_time", "end_time"} <= set(b)
    ]
    assert spans and all(start < end for start, end in spans)
    probes = {r["name"]: r["request"]["url"]["raw"] for r in requests}
    for probe in ("401 with a bad token", "403 without the scope"):
        url = probes[f"yellow_notepad: {probe}"]
        assert "appointment_id={{appointment_id}}" in url and "template_id=" in url
