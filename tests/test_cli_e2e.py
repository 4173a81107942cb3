"""The real CLI end to end: sandbox run, reports, record then replay, bad input, exit codes."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from drchrono_sandbox import FaultKind, Sandbox
from tests.conftest import PROJECT, run_cli, secret_values_in_store

V21 = "https://schema.getpostman.com/json/collection/v2.1.0/collection.json"


def test_default_run_passes_against_the_embedded_sandbox(tmp_path: Path) -> None:
    result = run_cli("run", "--junit", str(tmp_path / "j.xml"), "--json", str(tmp_path / "s.json"))
    assert result.code == 0, result.stdout + result.stderr
    assert "Create appointment" in result.stdout and "PASSED" in result.stdout
    suites = ET.parse(tmp_path / "j.xml").getroot()
    assert suites.get("failures") == "0" and suites.get("errors") == "0"
    assert {s.get("name") for s in suites} >= {"Users", "Patients", "Appointments"}
    summary = json.loads((tmp_path / "s.json").read_text())
    assert summary["summary"]["ok"] is True and summary["summary"]["total"] == 17
    assert summary["run"]["target"] == "sandbox"
    assert "target: sandbox (the collection calls app.drchrono.com; no -e given)" in result.stdout


def test_record_then_replay_offline_and_no_secret_in_any_file(
    sandbox: Sandbox, sandbox_env: Path, tmp_path: Path
) -> None:
    store = tmp_path / "tokens.json"
    cassettes = tmp_path / "cassettes"
    common = ["-e", str(sandbox_env), "--token-store", str(store), "--cassette-dir", str(cassettes)]
    recorded = run_cli(
        "run",
        *common,
        "--record",
        "--junit",
        str(tmp_path / "rec.xml"),
        "--json",
        str(tmp_path / "rec.json"),
    )
    assert recorded.code == 0, recorded.stdout + recorded.stderr
    written = sorted(cassettes.rglob("*.yaml"))
    assert len(written) >= 5  # one per folder, plus the token traffic

    # The client id too: every value an auth block puts on the wire is a credential.
    secrets = {sandbox.client_id, sandbox.client_secret, sandbox.refresh_token}
    secrets |= secret_values_in_store(store)
    sandbox.stop()  # replay must not need the server
    replayed = run_cli(
        "run",
        "--replay",
        "--cassette-dir",
        str(cassettes),
        "--junit",
        str(tmp_path / "rep.xml"),
        "--json",
        str(tmp_path / "rep.json"),
    )
    assert replayed.code == 0, replayed.stdout + replayed.stderr
    assert json.loads((tmp_path / "rep.json").read_text())["summary"]["passed"] == 17

    inputs = {store, sandbox_env}  # the token store and the environment hold them by design
    assert any(p.name == "_environment.json" for p in tmp_path.rglob("*"))
    artifacts = [p for p in tmp_path.rglob("*") if p.is_file() and p not in inputs]
    assert len(secrets) >= 5  # client id and secret, seed refresh token, access, rotated refresh
    texts = [p.read_text(errors="replace") for p in artifacts]
    texts += [recorded.stdout, recorded.stderr, replayed.stdout, replayed.stderr]
    for secret in secrets:
        assert not any(secret in text for text in texts), "a secret leaked into an artifact"


def test_failures_give_exit_1_and_bail_stops(
    sandbox: Sandbox, sandbox_env: Path, tmp_path: Path
) -> None:
    sandbox.faults.inject(route="/api/patients", kind=FaultKind.SERVER_ERROR, methods=["POST"])
    store = ["--token-store", str(tmp_path / "t.json")]
    failed = run_cli(
        "run",
        "-e",
        str(sandbox_env),
        *store,
        "--folder",
        "Patients",
        "--json",
        str(tmp_path / "s.json"),
    )
    assert failed.code == 1
    results = json.loads((tmp_path / "s.json").read_text())["results"]
    create = next(r for r in results if r["name"] == "Create patient")
    assert (
        create["cause"] == "server fault" and len(create["attempts"]) == 1
    )  # POST is never retried
    assert {
        r["verdict"] for r in results if r["name"] in ("Retrieve patient", "Delete patient")
    } == {"skipped"}
    bailed = run_cli(
        "run",
        "-e",
        str(sandbox_env),
        *store,
        "--folder",
        "Patients",
        "--bail",
        "--json",
        str(tmp_path / "b.json"),
    )
    assert bailed.code == 1
    assert len(json.loads((tmp_path / "b.json").read_text())["results"]) == 2


def write(tmp_path: Path, name: str, content: str) -> Path:
    path = tmp_path / name
    path.write_text(content)
    return path


@pytest.mark.parametrize(
    ("make_args", "expected"),
    [
        (lambda t: [str(write(t, "c.json", "{ nope"))], "is not valid JSON (line 1"),
        (
            lambda t: [
                str(
                    write(
                        t,
                        "c.json",
                        json.dumps(
                            {
                                "info": {
                                    "name": "x",
                                    "schema": "https://schema.getpostman.com/json/collection/v1.0.0/",
                                },
                                "item": [],
                            }
                        ),
                    )
                )
            ],
            "only Postman collection v2.0.0 and v2.1.0",
        ),
        (lambda t: ["-e", str(t / "missing.json")], "does not exist"),
        (
            lambda t: [
                str(
                    write(
                        t,
                        "c.json",
                        json.dumps(
                            {
                                "info": {"name": "x", "schema": V21},
                                "item": [
                                    {"name": "Needs var", "request": {"url": "{{nowhere}}/api/x"}}
                                ],
                            }
                        ),
                    )
                ),
                "--strict-variables",  # by default it is sent as written, as Newman does
            ],
            "{{nowhere}}",
        ),
    ],
    ids=["malformed-json", "wrong-schema", "missing-environment", "unresolved-variable"],
)
def test_bad_input_is_one_clear_paragraph_and_exit_2(
    tmp_path: Path, make_args, expected: str
) -> None:
    result = run_cli("run", *make_args(tmp_path))
    assert result.code == 2, result.stdout + result.stderr
    assert expected in result.stderr
    assert "Traceback" not in result.stderr + result.stdout
    assert result.stderr.startswith("error: ")


def test_live_target_without_credentials_says_which_variables_to_set(tmp_path: Path) -> None:
    result = run_cli(
        "run",
        "-e",
        str(PROJECT / "collections" / "drchrono.postman_environment.json"),
        "--token-store",
        str(tmp_path / "t.json"),
    )
    assert result.code == 2
    assert "DRCHRONO_CLIENT_ID" in result.stderr or "DRCHRONO_REFRESH_TOKEN" in result.stderr


def test_committed_cassettes_replay_offline_and_scan_clean(tmp_path: Path) -> None:
    """What CI does with no DrChrono credentials: the shipped suites from cassettes/."""
    collection = run_cli("run", "--replay", "--json", str(tmp_path / "c.json"))
    assert collection.code == 0, collection.stdout + collection.stderr
    assert json.loads((tmp_path / "c.json").read_text())["summary"]["passed"] == 17
    scenarios = run_cli("run", "scenarios/", "--replay", "--json", str(tmp_path / "s.json"))
    assert scenarios.code == 0, scenarios.stdout + scenarios.stderr
    assert json.loads((tmp_path / "s.json").read_text())["summary"]["failed"] == 0
    # The full collection's cassettes are scanned by the slow test below (and by CI's scan of
    # cassettes/): 1.7 MB of YAML would add seconds to the quick suite.
    scan = run_cli("cassettes", "scan", "cassettes/drchrono-api-harness", "cassettes/scenarios")
    assert scan.code == 0, scan.stdout + scan.stderr


def _verdicts(summary_file: Path) -> list[tuple[str, str, str, str]]:
    results = json.loads(summary_file.read_text())["results"]
    return [(r["suite"], r["name"], r["verdict"], r["cause"]) for r in results]


@pytest.mark.slow  # 641 requests replayed, then run live against the sandbox: ~30 s
def test_full_collection_cassettes_replay_offline_as_the_sandbox_answers(tmp_path: Path) -> None:
    """The committed cassettes of DrChrono's full collection scan clean, replay with the network
    blocked (every request answered from them), and give each request the verdict a live run
    against the sandbox gives it: they are neither stale nor broken by scrubbing."""
    collection = str(PROJECT / "collections" / "drchrono-api.postman_collection.json")
    scan = run_cli("cassettes", "scan", "cassettes/drchrono-api-full-generated")
    assert scan.code == 0, scan.stdout + scan.stderr
    replay = run_cli("run", collection, "--replay", "--json", str(tmp_path / "replay.json"))
    live = run_cli("run", collection, "--json", str(tmp_path / "live.json"))
    assert replay.code == live.code, replay.stdout[-2000:]
    replayed, answered = _verdicts(tmp_path / "replay.json"), _verdicts(tmp_path / "live.json")
    assert len(replayed) == len(answered) > 600
    assert replayed == answered


def test_live_run_needs_nothing_but_credentials_in_environment_variables(
    sandbox: Sandbox, tmp_path: Path
) -> None:
    """The live environment file, unchanged; DrChrono itself is stood in for by the sandbox."""
    credentials = {
        "DRCHRONO_CLIENT_ID": sandbox.client_id,
        "DRCHRONO_CLIENT_SECRET": sandbox.client_secret,
        "DRCHRONO_REFRESH_TOKEN": sandbox.refresh_token,
        # Only because this test's DrChrono lives on loopback:
        "DRCHRONO_BASE_URL": sandbox.base_url,
        "DRCHRONO_AUTH_BASE_URL": sandbox.base_url,
    }
    result = run_cli(
        "run",
        "-e",
        str(PROJECT / "collections" / "drchrono.postman_environment.json"),
        "--token-store",
        str(tmp_path / "tokens.json"),
        "--json",
        str(tmp_path / "s.json"),
        env=credentials,
    )
    assert result.code == 0, result.stdout + result.stderr
    assert json.loads((tmp_path / "s.json").read_text())["run"]["target"] == "live"
    # The rotated refresh token was kept: with every access token expired, the next run must
    # refresh, and only the stored (rotated) refresh token can; the seed one is dead.
    sandbox.expire_access_tokens()
    before = sandbox.request_count(path_prefix="/o/token/")
    again = run_cli(
        "run",
        "-e",
        str(PROJECT / "collections" / "drchrono.postman_environment.json"),
        "--token-store",
        str(tmp_path / "tokens.json"),
        "--folder",
        "Users",
        env=credentials,
    )
    assert again.code == 0, again.stdout + again.stderr
    assert sandbox.request_count(path_prefix="/o/token/") == before + 1
    for secret in credentials.values():
        if secret != sandbox.base_url:
            assert secret not in result.stdout + result.stderr + again.stdout + again.stderr


def test_scripts_run_and_with_no_scripts_are_announced_as_not_run(tmp_path: Path) -> None:
    collection = {
        "info": {"name": "js", "schema": V21},
        "item": [
            {
                "name": "Users",
                "item": [
                    {
                        "name": "Current user",
                        "event": [
                            {
                                "listen": "test",
                                "script": {
                                    "exec": [
                                        "pm.response.to.have.status(200);",
                                        "const body = pm.response.json();",
                                        "pm.expect(body.username).to.be.a('string');",
                                    ]
                                },
                            }
                        ],
                        "request": {"method": "GET", "url": "{{base_url}}/api/users/current"},
                    }
                ],
            }
        ],
    }
    path = write(tmp_path, "js.postman_collection.json", json.dumps(collection))
    # It names no host: the sandbox only because the environment says so. No auth: a 401.
    sandbox = ("--env-var", "harness_target=sandbox")
    ran = run_cli("run", str(path), *sandbox, "--no-contracts")
    assert ran.code == 1 and "Not run" not in ran.stdout, ran.stdout + ran.stderr
    assert (
        "AssertionError in test-script: the test script of request 'Users/Current user', line 1: "
        "expected response to have status code 200 but got 401"
    ) in ran.stdout
    result = run_cli("run", str(path), *sandbox, "--no-contracts", "--no-scripts")
    assert "Not run (1)" in result.stdout
    assert "request Users/Current user: test script lines 2-3: JavaScript" in result.stdout
