"""A request written to be rejected (its test expects 400) passes when the published API would
reject it: the request contract's finding is what the request checks, not a failure of it."""

from __future__ import annotations

import json
from pathlib import Path

from harness.cli import main
from tests.conftest import PROJECT

SCHEMA = "https://schema.getpostman.com/json/collection/v2.1.0/collection.json"


def _item(name: str, tests: list[str]) -> dict[str, object]:
    return {
        "name": name,
        "event": [{"listen": "test", "script": {"type": "text/javascript", "exec": tests}}],
        "request": {
            "method": "GET",
            "url": "{{base_url}}/api/day_sheet_patient_payments?end_date=2030-06-03",
        },
    }


def test_a_request_expecting_400_passes_the_request_contract_it_breaks(tmp_path: Path) -> None:
    expects_400 = 'pm.test("status is 400", () => pm.response.to.have.status(400));'
    expects_200 = 'pm.test("status is 200", () => pm.response.to.have.status(200));'
    full = json.loads((PROJECT / "collections/drchrono-api.postman_collection.json").read_text())
    collection = {
        "info": {"name": "Rejections", "schema": SCHEMA},
        "auth": full["auth"],  # DrChrono's OAuth 2.0 settings: the sandbox's client fills them
        "variable": full["variable"],
        "item": [
            _item("payments without a start date: 400", [expects_400]),
            _item("payments without a start date: 200", [expects_200]),
        ],
    }
    path = tmp_path / "rejections.postman_collection.json"
    path.write_text(json.dumps(collection))
    report = tmp_path / "report.json"
    assert main(["run", str(path), "--json", str(report)]) == 1  # the 200 one fails
    results = {r["name"]: r for r in json.loads(report.read_text())["results"]}
    rejected = results["payments without a start date: 400"]
    assert (rejected["verdict"], rejected["status"]) == ("passed", 400)
    check = next(c for c in rejected["checks"] if c["name"] == "request contract")
    assert check["passed"] and "start_date is missing" in check["message"]
    assert "as this request expects" in check["message"]
    wrong = results["payments without a start date: 200"]
    assert wrong["verdict"] == "failed"
    check = next(c for c in wrong["checks"] if c["name"] == "request contract")
    assert not check["passed"] and "it was sent anyway" in check["message"]
