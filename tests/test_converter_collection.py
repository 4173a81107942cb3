"""DrChrono's collection as Postman's converter generates it (#16): placeholders and --fill.

``data/drchrono-generated-cut.postman_collection.json`` is thirteen requests cut, unmodified, from
openapi-to-postmanv2 6.3.3's output for DrChrono's OpenAPI document (``folderStrategy=Tags``):
one folder per tag, a per-request ``oauth2`` block without credentials, ``<type>`` placeholders
in path variables, query and bodies (JSON and multipart), saved examples with 500s. Nothing is
converted at run time; every run is against the in-process sandbox ``harness run`` starts, with
the collection as it is (its oauth2 blocks take the sandbox's client).
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import httpx
import pytest

from harness.cli import main
from harness.collection import load_collection
from harness.fill import FILL_DAY
from harness.paths import CONTRACTS_DIR, SANDBOX_ENVIRONMENT
from harness.placeholders import Fill, Placeholder, apply_fills, find_placeholders, placeholder_type
from harness.reporters import JsonReporter
from harness.session import RunOptions, open_session

FIXTURE = Path(__file__).parent / "data" / "drchrono-generated-cut.postman_collection.json"


def _run(tmp_path: Path, *args: str) -> tuple[int, dict[str, Any]]:
    report = tmp_path / "report.json"
    code = main(["run", str(FIXTURE), "--json", str(report), *args])
    return code, json.loads(report.read_text())


def _by_name(report: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {result["name"]: result for result in report["results"]}


def test_the_converter_placeholder_set_is_recognised(tmp_path: Path) -> None:
    assert [placeholder_type(v) for v in ("<string>", "<long>", "<dateTime>", "<bool>")] == [
        "string",
        "long",
        "dateTime",
        "bool",
    ]
    assert placeholder_type("<string-email>") == "string"  # the converter's <type-format>
    for not_one in ("<b>", "<token>", "string", "a <string>", 5, None):
        assert placeholder_type(not_one) is None
    items = {i.name: i for i in load_collection(FIXTURE).requests()}
    found = find_placeholders(items["appointments create"])
    assert Placeholder("body", "$.doctor", "integer") in found
    assert Placeholder("body", "$.vitals.weight", "number") in found
    upload = find_placeholders(items["signed_consent_forms Create"])
    assert Placeholder("form", "patient", "integer") in upload
    assert Placeholder("query", "signature_file", "file") in upload
    assert Placeholder("path", "id", "string") in find_placeholders(items["offices read"])
    # A URL written as one string: its path segments and query values too.
    raw = tmp_path / "raw.postman_collection.json"
    url = "{{base_url}}/api/doctors/<integer>?doctor=<integer>&page_size=5"
    request = {"name": "raw", "request": {"method": "GET", "url": url}}
    raw.write_text(json.dumps({"info": {"name": "r", "schema": FIXTURE_SCHEMA}, "item": [request]}))
    raw_item = next(load_collection(raw).requests())
    segment, doctor = find_placeholders(raw_item)
    assert (str(segment), str(doctor)) == ("path segment <integer>", "query doctor <integer>")
    fills = {segment: Fill(segment, 7, "test"), doctor: Fill(doctor, None, "test")}
    assert apply_fills(raw_item, fills).url.raw == "{{base_url}}/api/doctors/7?page_size=5"
    # Dropping every placeholder leaves the request's own values, and no emptied array element.
    dropped = apply_fills(items["appointments create"], {p: Fill(p, None, "test") for p in found})
    assert dropped.body is not None
    assert json.loads(dropped.body.raw)["custom_fields"] == []
    assert json.loads(dropped.body.raw)["vitals"] == {"smoking_status": "449868002"}


def test_without_fill_each_request_is_one_finding_and_none_is_sent(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, report = _run(tmp_path)
    assert code == 1
    assert report["summary"]["errors"] == 14 and report["summary"]["passed"] == 0
    for result in report["results"]:
        assert result["cause"] == "unfilled placeholders" and result["status"] is None
        assert result["message"].startswith("not sent: unfilled placeholders")
        assert "--fill-placeholders" in result["message"]
    offices = _by_name(report)["offices read"]["message"]
    assert "path :id <string>" in offices and "query doctor <integer>" in offices
    out = capsys.readouterr().out
    assert "Practice Management/offices read: unfilled placeholders" in out
    assert "expected a JSON body" not in out


def test_fill_runs_the_generated_requests_green_and_records_every_value(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, report = _run(tmp_path, "--fill-placeholders", "-v")
    failures = [r for r in report["results"] if r["verdict"] != "passed"]
    assert code == 0, failures
    assert report["summary"]["passed"] == 14
    results = _by_name(report)
    fills = {(f["location"], f["name"]): f for f in results["offices read"]["filled"]}
    assert fills["path", "id"]["source"] == "id of the first record of GET /api/offices"
    assert results["offices read"]["url"].endswith(f"/api/offices/{fills['path', 'id']['value']}")
    assert fills["query", "doctor"]["dropped"] is True  # optional: left out
    listing = {(f["location"], f["name"]): f for f in results["appointments list"]["filled"]}
    assert listing["query", "since"]["value"] == "2000-01-01"  # DrChrono requires a date filter
    assert "?since=2000-01-01" in results["appointments list"]["url"]
    create = {f["name"]: f for f in results["appointments create"]["filled"]}
    assert create["$.doctor"]["source"] == "id of a record of GET /api/doctors"
    assert isinstance(create["$.doctor"]["value"], int)
    required = {f["name"]: f for f in results["insurances list"]["filled"]}
    assert required["payer_type"]["source"] == "schema type"  # required: given a value
    assert "payer_type=" in results["insurances list"]["url"]
    # DrChrono documents this create's fields as optional query parameters and gives it no body:
    # the query placeholders are dropped and the record's required fields make the body.
    problem = {(f["location"], f["name"]): f for f in results["problems create"]["filled"]}
    assert problem["query", "patient"]["dropped"] and problem["query", "doctor"]["dropped"]
    assert problem["body", "$.patient"]["source"].startswith("id of a record of GET /api/patients")
    assert "in a body the document leaves out" in problem["body", "$.doctor"]["source"]
    assert results["problems create"]["status"] == 201
    # Updates and deletes act on records the run makes, never on the target's own.
    deleted = {f["name"]: f for f in results["messages delete"]["filled"]}
    assert deleted["id"]["source"] == "a record the run made for it: POST /api/messages"
    patched = {f["name"]: f for f in results["Partially update a schedule block"]["filled"]}
    removed = {f["name"]: f for f in results["Delete a schedule block"]["filled"]}
    assert patched["id"]["value"] == removed["id"]["value"]  # the collection's DELETE removes it
    patient = {f["name"]: f for f in results["patients partial update"]["filled"]}["id"]
    assert patient["source"] == "a record the run made for it: POST /api/patients"
    out = capsys.readouterr().out
    assert "filled: path id <string> = " in out  # -v shows each value


def test_records_the_run_made_and_did_not_delete_are_deleted_when_it_ends(tmp_path: Path) -> None:
    options = RunOptions(
        collection=FIXTURE,
        environment=SANDBOX_ENVIRONMENT,
        folders=["patients partial update"],
        fill_placeholders="own",
    )
    report = tmp_path / "report.json"
    with open_session(options) as session:
        assert session.run(session.plan(), [JsonReporter(report)]).ok
        assert session.sandbox is not None
        sandbox = session.sandbox
        env = sandbox.environment()
        with httpx.Client(base_url=sandbox.base_url) as http:
            grant = {
                "grant_type": "refresh_token",
                "refresh_token": sandbox.issue_refresh_token(),
                "client_id": env["client_id"],
                "client_secret": env["client_secret"],
            }
            token = http.post("/o/token/", data=grant).json()["access_token"]
            result = json.loads(report.read_text())["results"][0]
            made = {f["name"]: f for f in result["filled"]}["id"]
            assert made["source"] == "a record the run made for it: POST /api/patients"
            assert result["status"] == 204  # the PATCH went to the record the run made
            answer = http.get(
                f"/api/patients/{made['value']}", headers={"Authorization": f"Bearer {token}"}
            )
            assert answer.status_code == 404  # and it is gone


def test_an_update_is_not_sent_when_it_would_change_a_record_the_target_had(
    tmp_path: Path,
) -> None:
    """DrChrono documents no way to make an office: updating one would change the practice's
    own, which only ``--fill-placeholders=existing`` (a target that may lose records) allows."""
    generated = json.loads(FIXTURE.read_text())
    offices = next(f for f in generated["item"] if f["name"] == "Practice Management")
    read = next(i for i in offices["item"] if i["name"] == "offices read")
    update = json.loads(json.dumps(read))
    update["name"], update["request"]["method"] = "offices partial update", "PATCH"
    update["response"] = []  # the read's examples say 200; DrChrono answers an update 204
    generated["item"] = [{"name": "Practice Management", "item": [update]}]
    path = tmp_path / "offices.postman_collection.json"
    path.write_text(json.dumps(generated))
    report = tmp_path / "report.json"
    assert main(["run", str(path), "--fill-placeholders", "--json", str(report)]) == 1
    result = json.loads(report.read_text())["results"][0]
    assert result["status"] is None and result["cause"] == "unfilled placeholders"
    assert "it would change a record the target had (POST /api/offices" in result["message"]
    assert main(["run", str(path), "--fill-placeholders=existing", "--json", str(report)]) == 0
    result = json.loads(report.read_text())["results"][0]
    assert result["status"] == 204
    assert result["filled"][0]["source"].endswith("(--fill-placeholders=existing)")


def test_a_request_the_published_api_would_reject_is_reported_and_still_sent(
    tmp_path: Path,
) -> None:
    collection = {
        "info": {"name": "Request contracts", "schema": FIXTURE_SCHEMA},
        "item": [
            {
                "name": "payments without their required dates",
                "request": {
                    "method": "GET",
                    "url": "{{base_url}}/api/day_sheet_patient_payments?end_date=2030-06-03",
                },
            },
        ],
    }
    path = tmp_path / "requests.postman_collection.json"
    path.write_text(json.dumps(collection))
    report_path = tmp_path / "report.json"
    sandbox = ["--env-var", "harness_target=sandbox"]  # {{base_url}} names no DrChrono host
    assert main(["run", str(path), *sandbox, "--json", str(report_path)]) == 1
    results = _by_name(json.loads(report_path.read_text()))
    payments = results["payments without their required dates"]
    assert payments["status"] is not None  # sent: the API decides
    check = payments["checks"][0]
    assert check["name"] == "request contract" and not check["passed"]
    assert "required query parameter start_date is missing" in check["message"]
    assert "end_date" not in check["message"]


FIXTURE_SCHEMA = "https://schema.getpostman.com/json/collection/v2.1.0/collection.json"


def test_filled_patient_data_is_masked_in_every_report(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A filled value of a patient-data field is PHI: masked in the console and the JSON report.

    No DrChrono schema requires a patient-data field, so a copy of the contracts makes
    date_of_birth required on patients (a filled date is then sent and reported).
    """
    contracts = tmp_path / "contracts"
    shutil.copytree(CONTRACTS_DIR, contracts)
    patient = json.loads((contracts / "schemas/Patient.json").read_text())
    patient["required"] = [*patient["required"], "date_of_birth"]
    (contracts / "schemas/Patient.json").write_text(json.dumps(patient))
    generated = json.loads(FIXTURE.read_text())
    auth = generated["item"][0]["item"][0]["request"]["auth"]  # the converter's, no client
    body = {"doctor": "<integer>", "gender": "<string>", "date_of_birth": "<date>"}
    collection = {
        "info": {"name": "Patients", "schema": FIXTURE_SCHEMA},
        "variable": generated["variable"],
        "item": [
            {
                "name": "patients create",
                "request": {
                    "method": "POST",
                    "auth": auth,
                    "url": "{{baseUrl}}/api/patients",
                    "header": [{"key": "Content-Type", "value": "application/json"}],
                    "body": {"mode": "raw", "raw": json.dumps(body)},
                },
            }
        ],
    }
    path = tmp_path / "patients.postman_collection.json"
    path.write_text(json.dumps(collection))
    report = tmp_path / "report.json"
    args = ["run", str(path), "--fill-placeholders", "-v", "--json", str(report)]
    code = main([*args, "--contracts", str(contracts)])
    result = json.loads(report.read_text())["results"][0]
    assert code == 0, result
    fills = {f["name"]: f for f in result["filled"]}
    assert fills["$.date_of_birth"]["value"] == "[PHI]"
    assert fills["$.gender"]["value"] == "Male"  # a coded value, not patient text
    assert isinstance(fills["$.doctor"]["value"], int)
    out = capsys.readouterr().out
    assert "filled: body $.date_of_birth <date> = [PHI] (date)" in out
    assert FILL_DAY.isoformat() not in out and FILL_DAY.isoformat() not in report.read_text()


@pytest.mark.slow  # recording scrubs every body: ~15 s of CPU
def test_a_filled_run_replays_from_its_cassettes(tmp_path: Path) -> None:
    """Filling is deterministic (records listed in order, a fixed day), so a recorded run,
    listings, made records and clean-up included, replays with the network blocked."""
    cassettes = str(tmp_path / "cassettes")
    report = str(tmp_path / "report.json")
    common = ["run", str(FIXTURE), "--fill-placeholders", "--cassette-dir", cassettes]
    assert main([*common, "--record", "--json", report]) == 0
    recorded = json.loads(Path(report).read_text())
    assert main([*common, "--replay", "--json", report]) == 0
    replayed = json.loads(Path(report).read_text())
    assert replayed["summary"]["passed"] == recorded["summary"]["passed"] == 14
    assert [r["filled"] for r in replayed["results"]] == [r["filled"] for r in recorded["results"]]
