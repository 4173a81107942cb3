"""Verdicts that do not lie: what may accept an error status, what the harness did not run, and
refused credentials that stop a run once."""

from __future__ import annotations

import copy
import json
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

from drchrono_sandbox import FaultKind, Sandbox
from tests.conftest import PROJECT, run_cli, secret_values_in_store

SHIPPED = json.loads((PROJECT / "collections" / "drchrono.postman_collection.json").read_text())


def run(
    sb: Sandbox, tmp_path: Path, collection: Path, *extra: str
) -> tuple[int, str, dict[str, Any]]:
    env = sb.write_environment(tmp_path / "env.json")
    report = tmp_path / "out.json"
    result = run_cli(
        "run",
        str(collection),
        "-e",
        str(env),
        "--token-store",
        str(tmp_path / "tokens.json"),
        "--json",
        str(report),
        "--junit",
        str(tmp_path / "out.xml"),
        "--rate-limit",
        "none",
        "--retries",
        "0",
        *extra,
        cwd=tmp_path,
    )
    output = result.stdout + result.stderr
    assert "Traceback" not in output and "internal error" not in output, output
    return result.code, output, json.loads(report.read_text()) if report.exists() else {}


# --- saved examples document responses; they do not make an error acceptable -----------------


def test_saved_examples_never_accept_an_error_only_a_test_script_does(
    sandbox: Sandbox, tmp_path: Path
) -> None:
    # An OpenAPI conversion saves a 400 and a 500 example on nearly every request.
    documented = [{"name": n, "code": c} for n, c in (("OK", 200), ("Bad", 400), ("Oops", 500))]
    missing = "{{base_url}}/api/doctors/999999999"  # the sandbox answers 404
    found = "{{base_url}}/api/doctors/{{doctor_id}}"

    def request(name: str, url: str, examples: list[Any], *script: str) -> dict[str, Any]:
        events = [{"listen": "test", "script": {"exec": list(script)}}] if script else []
        return {
            "name": name,
            "event": events,
            "request": {"method": "GET", "url": url},
            "response": examples,
        }

    document = copy.deepcopy(SHIPPED)
    document["item"] = [
        {
            "name": "Doctors",
            "item": [
                request("Server error", "{{base_url}}/api/doctors", documented),
                request("Not found", missing, [*documented, {"name": "Gone", "code": 404}]),
                request("Created only", found, [{"name": "Created", "code": 201}]),
                request("Not found, expected", missing, [], "pm.response.to.have.status(404);"),
            ],
        }
    ]
    collection = tmp_path / "c.postman_collection.json"
    collection.write_text(json.dumps(document))
    sandbox.faults.inject(route="/api/doctors", kind=FaultKind.SERVER_ERROR, count=None)
    code, output, report = run(sandbox, tmp_path, collection, "--no-contracts")
    assert code == 1, output
    got = {
        r["name"]: (r["status"], r["verdict"], r["cause"], r["checks"][0]["message"])
        for r in report["results"]
    }
    assert got == {
        "Server error": (500, "error", "server fault", "expected status 200, got 500"),
        "Not found": (404, "failed", "unexpected status", "expected status 200, got 404"),
        # A 2xx example says which success is expected.
        "Created only": (200, "failed", "unexpected status", "expected status 201, got 200"),
        "Not found, expected": (404, "passed", "ok", ""),
    }


# --- refused or missing credentials stop the run once, with exit 2 ------------------------------


def shipped_run(sb: Sandbox, tmp_path: Path, *extra: str) -> tuple[int, str, dict[str, Any]]:
    return run(sb, tmp_path, PROJECT / "collections" / "drchrono.postman_collection.json", *extra)


def assert_stopped_once(code: int, output: str, report: dict[str, Any], why: str) -> None:
    assert code == 2, output
    # Said for the request that met it (its line, the failures list) and as the run's error: not
    # once per request.
    assert output.count(why) == 3 and output.count("error: ") == 1, output
    verdicts = [r["verdict"] for r in report["results"]]
    assert verdicts[0] == "error" and set(verdicts[1:]) == {"skipped"}, verdicts


def test_revoked_refresh_token_with_a_stored_access_token_stops_once(
    sandbox: Sandbox, tmp_path: Path
) -> None:
    first, output, _ = shipped_run(sandbox, tmp_path, "--folder", "Doctors")
    assert first == 0, output
    for token in secret_values_in_store(tmp_path / "tokens.json"):
        sandbox.revoke(token)  # DrChrono revokes the access token with its refresh token
    before = sandbox.request_count("/o/token/")
    code, output, report = shipped_run(
        sandbox, tmp_path, "--folder", "Doctors", "--folder", "Offices"
    )
    assert_stopped_once(code, output, report, "invalid_grant")
    assert "harness auth login" in output
    assert sandbox.request_count("/o/token/") == before + 1


def test_no_refresh_token_at_all_stops_once(sandbox: Sandbox, tmp_path: Path) -> None:
    code, output, report = shipped_run(sandbox, tmp_path, "--env-var", "refresh_token=")
    assert_stopped_once(code, output, report, "No refresh token is available")


def test_revoked_refresh_token_under_workers_asks_the_token_endpoint_once(
    sandbox: Sandbox, tmp_path: Path
) -> None:
    revoked = sandbox.issue_refresh_token()
    sandbox.revoke(revoked)
    code, output, report = shipped_run(
        sandbox, tmp_path, "--env-var", f"refresh_token={revoked}", "--workers", "4"
    )
    assert code == 2, output
    assert output.count("invalid_grant") == 3 and output.count("error: ") == 1, output
    assert sandbox.request_count("/o/token/") == 1
    assert {r["verdict"] for r in report["results"]} <= {"error", "skipped"}
    assert [r["verdict"] for r in report["results"]].count("error") == 1


# --- whatever the harness does not execute is in every report ----------------------------------


def script(listen: str, *lines: str) -> dict[str, Any]:
    return {"listen": listen, "script": {"exec": list(lines)}}


def test_scripts_not_run_are_listed_in_every_report(tmp_path: Path) -> None:
    document = copy.deepcopy(SHIPPED)
    document["item"] = [f for f in document["item"] if f["name"] == "Doctors"]
    document["event"] = [script("prerequest", "pm.variables.set('t', Date.now());")]
    doctors = document["item"][0]
    doctors["event"] = [script("test", "pm.expect(pm.response.responseTime).to.be.below(500);")]
    listed, retrieved = doctors["item"]
    listed["event"] = [
        script(
            "test",
            'pm.test("ok", function () { pm.response.to.have.status(200); '
            "pm.expect(pm.response.json().results).to.have.length(3); });",
        )
    ]
    # A skipped test is not an expectation: were it applied, this run would fail on the 200.
    retrieved["event"] = [
        script("test", 'pm.test.skip("later", function () { pm.response.to.have.status(500); });')
    ]
    collection = tmp_path / "c.postman_collection.json"
    collection.write_text(json.dumps(document))
    junit, report, html = tmp_path / "j.xml", tmp_path / "s.json", tmp_path / "r.html"
    result = run_cli(
        "run",
        str(collection),
        "--no-contracts",
        "--no-scripts",
        "--junit",
        str(junit),
        "--json",
        str(report),
        "--html",
        str(html),
        cwd=tmp_path,
    )
    assert result.code == 0, result.stdout + result.stderr
    expected = [
        ("the collection", "pre-request script line 1: JavaScript the harness does not run"),
        ("folder Doctors", "test script line 1: JavaScript the harness does not run"),
        ("request Doctors/List doctors", "test script line 1: JavaScript the harness does not run"),
        ("request Doctors/Retrieve doctor", "test script line 1: skipped by pm.test.skip"),
    ]
    for where, what in expected:
        assert f"{where}: {what}" in result.stdout
    assert "Not run (4)" in result.stdout
    not_run = json.loads(report.read_text())["not_run"]
    assert len(not_run) == len(expected)
    for entry, (where, what) in zip(not_run, expected, strict=True):
        assert entry["where"] == where and entry["what"].startswith(what)
    suites = ET.parse(junit).getroot()
    suite = next(s for s in suites if s.get("name") == "not run")
    cases = [(c.get("name"), c.find("skipped")) for c in suite]
    assert [name for name, _ in cases] == [where for where, _ in expected]
    assert all(skipped is not None for _, skipped in cases)
    assert suites.get("skipped") == "4" and suites.get("failures") == "0"
    page = html.read_text()
    assert "Not run (4)" in page and "folder Doctors: test script line 1" in page


def test_scenario_runs_list_the_scripts_of_the_requests_they_send(tmp_path: Path) -> None:
    document = copy.deepcopy(SHIPPED)
    doctors = next(f for f in document["item"] if f["name"] == "Doctors")
    doctors["item"][0]["event"][0]["script"]["exec"].append("pm.expect(1).to.eql(1);")
    collection = tmp_path / "c.postman_collection.json"
    collection.write_text(json.dumps(document))
    scenario = tmp_path / "s.yaml"
    scenario.write_text(
        "scenarios:\n  - name: Doctors\n    steps:\n"
        "      - name: List\n        request: Doctors/List doctors\n"
    )
    report = tmp_path / "s.json"
    result = run_cli(
        "run",
        str(collection),
        str(scenario),
        "--no-contracts",
        "--no-scripts",
        "--json",
        str(report),
        cwd=tmp_path,
    )
    assert result.code == 0, result.stdout + result.stderr
    assert json.loads(report.read_text())["not_run"] == [
        {
            "where": "request Doctors/List doctors",
            "what": "test script line 2: JavaScript the harness does not run",
        }
    ]
