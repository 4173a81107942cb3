"""Collection runs execute their Postman scripts (issue #15), seen from the CLI and the reports.

A tiny echo server started by each test answers every request with what it received, so the
tests can see on the wire what the scripts changed.
"""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import Any

import pytest

from harness import cli
from harness.scripting import hooks
from tests.local_server import local_server, serving

V21 = "https://schema.getpostman.com/json/collection/v2.1.0/collection.json"


@dataclass
class Echo:
    url: str
    seen: list[tuple[str, str, dict[str, str]]] = field(default_factory=list)

    @property
    def paths(self) -> list[str]:
        return [path for _, path, _ in self.seen]


@pytest.fixture
def echo() -> Iterator[Echo]:
    state = Echo("")

    class Handler(BaseHTTPRequestHandler):
        def _answer(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length).decode()
            state.seen.append((self.command, self.path, dict(self.headers.items())))
            status = int(self.path.split("/status/")[1][:3]) if "/status/" in self.path else 200
            payload = json.dumps(
                {
                    "method": self.command,
                    "path": self.path,
                    "probe": self.headers.get("X-Probe"),
                    "body": body,
                    "id": 42,
                    "first_name": "Ada",
                }
            ).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        do_GET = do_POST = do_PUT = _answer

        def log_message(self, *args: object) -> None:
            pass

    with serving(local_server(Handler)) as url:
        state.url = url
        yield state


def event(listen: str, *lines: str) -> dict[str, Any]:
    return {"listen": listen, "script": {"exec": list(lines)}}


def request(name: str, path: str, *events: dict[str, Any], method: str = "GET") -> dict[str, Any]:
    return {
        "name": name,
        "event": list(events),
        "request": {"method": method, "url": "{{echo}}" + path},
    }


@dataclass
class Run:
    code: int
    stdout: str
    stderr: str
    report: dict[str, Any]
    dir: Path

    def checks(self, name: str) -> dict[str, str]:
        """Check name -> message ("" for a pass) of the first result named ``name``."""
        result = next(r for r in self.report["results"] if r["name"] == name)
        return {c["name"]: c["message"] for c in result["checks"] if c["name"] != "status"}

    @property
    def names(self) -> list[str]:
        return [r["name"] for r in self.report["results"]]


def run(
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    echo: Echo,
    items: list[dict[str, Any]],
    *extra: str,
    collection_events: list[dict[str, Any]] | None = None,
    sources: tuple[str, ...] = (),
) -> Run:
    document = {"info": {"name": "scripts", "schema": V21}, "item": items}
    if collection_events:
        document["event"] = collection_events
    collection = tmp_path / "c.postman_collection.json"
    collection.write_text(json.dumps(document))
    environment = tmp_path / "env.json"
    environment.write_text(json.dumps({"values": [{"key": "echo", "value": echo.url}]}))
    report = tmp_path / "report.json"
    code = cli.main(
        [
            "run",
            str(collection),
            *sources,
            "-e",
            str(environment),
            "--no-contracts",
            "--json",
            str(report),
            *extra,
        ]
    )
    out = capsys.readouterr()
    data = json.loads(report.read_text()) if report.exists() else {}
    return Run(code, out.out, out.err, data, tmp_path)


def test_pm_tests_are_checks_in_every_report_named_as_in_newman(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], echo: Echo
) -> None:
    items = [
        {
            "name": "Folder",
            "event": [event("test", 'pm.test("folder sees the body", () => pm.response.json());')],
            "item": [
                request(
                    "Get",
                    "/get",
                    event(
                        "test",
                        'pm.test("status is 200", () => pm.response.to.have.status(200));',
                        'pm.test("id is 43", () => pm.expect(pm.response.json().id).to.eql(43));',
                        'pm.test.skip("later", () => pm.expect(1).to.eql(2));',
                    ),
                )
            ],
        }
    ]
    junit, html = tmp_path / "j.xml", tmp_path / "r.html"
    done = run(
        tmp_path,
        capsys,
        echo,
        items,
        "--junit",
        str(junit),
        "--html",
        str(html),
        collection_events=[event("test", 'pm.test("collection first", () => {});')],
    )
    assert done.code == 1, done.stdout + done.stderr
    # Newman's order: the collection's, the folder's, then the request's own scripts.
    assert list(done.checks("Get")) == [
        "collection first",
        "folder sees the body",
        "status is 200",
        "id is 43",
    ]
    assert done.checks("Get")["id is 43"] == "expected 42 to deeply equal 43"
    assert "id is 43: expected 42 to deeply equal 43" in done.stdout
    failure = ET.parse(junit).getroot().find(".//testcase[@name='Get']/failure")
    assert failure is not None and "id is 43: expected 42 to deeply equal 43" in (
        failure.text or ""
    ) + str(failure.get("message"))
    page = html.read_text()
    assert "collection first" in page and "expected 42 to deeply equal 43" in page
    # Only the skipped pm.test did not run, and every report says so.
    assert done.report["not_run"] == [
        {
            "where": "request Folder/Get",
            "what": "pm.test.skip 'later': skipped by the script (not executed)",
        }
    ]


def test_pre_request_changes_are_sent_and_variables_feed_the_next_request(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], echo: Echo
) -> None:
    items = [
        request(
            "First",
            "/first",
            event(
                "prerequest",
                'pm.request.headers.add({key: "X-Probe", value: "from-script"});',
                'pm.request.url.query.add({key: "q", value: "smith"});',
            ),
            event(
                "test",
                'pm.test("probe arrived", () => '
                'pm.expect(pm.response.json().probe).to.eql("from-script"));',
                'pm.collectionVariables.set("next_path", "second-" + pm.response.json().id);',
            ),
        ),
        request("Second", "/{{next_path}}"),
    ]
    done = run(tmp_path, capsys, echo, items)
    assert done.code == 0, done.stdout + done.stderr
    assert echo.paths == ["/first?q=smith", "/second-42"]
    assert echo.seen[0][2]["X-Probe"] == "from-script"
    assert done.report["not_run"] == []


def test_set_next_request_loops_and_null_stops_the_run(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], echo: Echo
) -> None:
    items = [
        request("Start", "/start", event("test", 'pm.environment.set("n", "0");')),
        request(
            "Loop",
            "/loop",
            event(
                "test",
                'const n = Number(pm.environment.get("n")) + 1;',
                'pm.environment.set("n", String(n));',
                'if (n < 3) { postman.setNextRequest("Loop"); }',
                "else { pm.execution.setNextRequest(null); }",
            ),
        ),
        request("Never", "/never"),
    ]
    done = run(tmp_path, capsys, echo, items, "--workers", "3")
    assert done.code == 0, done.stdout + done.stderr
    assert done.names == ["Start", "Loop", "Loop", "Loop"]
    assert "/never" not in echo.paths


def test_set_next_request_jumps_across_folders_and_null_ends_every_iteration(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], echo: Echo
) -> None:
    # Folders are separate units otherwise (concurrent under --workers): a jump between them
    # must still follow the scripts, and setNextRequest(null) must stop the later data rows too.
    folder_a = {
        "name": "A",
        "item": [
            request("One", "/one", event("test", 'postman.setNextRequest("Three");')),
            request("Two", "/two", event("test", "pm.execution.setNextRequest(null);")),
        ],
    }
    folder_b = {
        "name": "B",
        "item": [
            request("Three", "/three", event("test", 'postman.setNextRequest("Two");')),
            request("Four", "/four"),
        ],
    }
    data = tmp_path / "rows.json"
    data.write_text(json.dumps([{"row": "1"}, {"row": "2"}]))
    done = run(tmp_path, capsys, echo, [folder_a, folder_b], "--workers", "2", "-d", str(data))
    assert done.code == 0, done.stdout + done.stderr
    assert done.names == ["One", "Three", "Two"]
    assert echo.paths == ["/one", "/three", "/two"]


def test_skip_request_and_an_unknown_next_request(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], echo: Echo
) -> None:
    items = [
        request("Skipped", "/skipped", event("prerequest", "pm.execution.skipRequest();")),
        request("Jump", "/jump", event("test", 'postman.setNextRequest("No such request");')),
        request("After", "/after"),
    ]
    done = run(tmp_path, capsys, echo, items)
    assert done.code == 0, done.stdout + done.stderr
    assert echo.paths == ["/jump"]  # Newman ends the iteration at an unknown name
    skipped = done.report["results"][0]
    assert skipped["verdict"] == "skipped" and "pm.execution.skipRequest()" in skipped["message"]
    assert "names no request of this run" in done.report["results"][1]["console"][-1]


def test_a_loop_that_never_ends_stops_at_the_guard(
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    echo: Echo,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(hooks, "MAX_JUMPS_PER_ITERATION", 4)
    items = [request("Spin", "/spin", event("test", 'pm.execution.setNextRequest("Spin");'))]
    done = run(tmp_path, capsys, echo, items)
    assert done.code == 1, done.stdout + done.stderr
    assert done.names == ["Spin"] * 5
    message = done.report["results"][-1]["checks"][-1]["message"]
    assert "jumped 4 times in one iteration" in message
    assert "setNextRequest" in done.stdout


def test_send_request_goes_through_the_sender_into_the_cassette(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], echo: Echo
) -> None:
    items = [
        request(
            "Outer",
            "/outer",
            event(
                "prerequest",
                'pm.sendRequest(pm.environment.get("echo") + "/side", (err, res) => {',
                '  pm.environment.set("side", String(res.json().path));',
                "});",
            ),
            event(
                "test",
                'pm.test("side", () => pm.expect(pm.environment.get("side")).to.eql("/side"));',
            ),
        )
    ]
    cassettes = tmp_path / "cassettes"
    done = run(tmp_path, capsys, echo, items, "--record", "--cassette-dir", str(cassettes))
    assert done.code == 0, done.stdout + done.stderr
    assert echo.paths == ["/side", "/outer"]
    recorded = "".join(p.read_text() for p in cassettes.rglob("*.yaml"))
    assert "/side" in recorded and "/outer" in recorded
    replayed = run(tmp_path, capsys, echo, items, "--replay", "--cassette-dir", str(cassettes))
    assert replayed.code == 0, replayed.stdout + replayed.stderr
    assert echo.paths == ["/side", "/outer"]  # the replay sent nothing


def test_a_script_error_names_its_location_and_fails_the_request(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], echo: Echo
) -> None:
    items = [
        {
            "name": "Folder",
            "event": [event("prerequest", "// set-up", "undefinedThing.call();")],
            "item": [request("Get", "/get")],
        }
    ]
    done = run(tmp_path, capsys, echo, items)
    assert done.code == 1
    assert echo.paths == ["/get"]  # as in Newman, a pre-request error does not stop the send
    assert done.checks("Get") == {
        "ReferenceError in prerequest-script": "the prerequest script of folder 'Folder', "
        "line 2: undefinedThing is not defined"
    }


def test_console_output_is_reported_masked(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], echo: Echo
) -> None:
    items = [
        request(
            "Get",
            "/get",
            event(
                "test",
                'pm.environment.set("access_token", "tok-SECRET-123");',
                'console.log("token", pm.environment.get("access_token"));',
                "console.warn({first_name: pm.response.json().first_name});",
            ),
        )
    ]
    html = tmp_path / "r.html"
    done = run(tmp_path, capsys, echo, items, "-v", "--html", str(html))
    assert done.code == 0, done.stdout + done.stderr
    page = html.read_text()
    assert "Script console" in page and "token [REDACTED]" in page
    assert "tok-SECRET-123" not in page and "Ada" not in page
    lines = done.report["results"][0]["console"]
    assert lines[0] == "token [REDACTED]"
    assert 'first_name: "[PHI]"' in lines[1] and "Ada" not in lines[1]
    assert "console: token [REDACTED]" in done.stdout
    assert "tok-SECRET-123" not in done.stdout + json.dumps(done.report)


def test_no_scripts_lists_every_script_and_runs_none(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], echo: Echo
) -> None:
    items = [
        request(
            "Get",
            "/get",
            event("prerequest", 'pm.request.url.query.add({key: "q", value: "x"});'),
            event("test", 'pm.test("fails", () => pm.expect(1).to.eql(2));'),
        )
    ]
    done = run(tmp_path, capsys, echo, items, "--no-scripts")
    assert done.code == 0, done.stdout + done.stderr
    assert echo.paths == ["/get"]
    assert [e["what"] for e in done.report["not_run"]] == [
        "pre-request script line 1: JavaScript the harness does not run",
        "test script line 1: JavaScript the harness does not run",
    ]


def test_script_timeout_and_bad_options(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], echo: Echo
) -> None:
    items = [request("Spin", "/spin", event("test", "while (true) {}"))]
    done = run(tmp_path, capsys, echo, items, "--timeout-script", "200ms")
    assert done.code == 1
    assert "ran longer than its 0.2 s limit" in done.report["results"][0]["checks"][-1]["message"]
    bad = run(tmp_path, capsys, echo, items, "--timeout-script", "0")
    assert bad.code == 2 and "--timeout-script 0 is not a positive" in bad.stderr
    missing = run(tmp_path, capsys, echo, items, "--script-libs", str(tmp_path / "nope"))
    assert missing.code == 2 and "is not a directory" in missing.stderr


def test_scenario_steps_choose_scripts_and_carry_their_own_test(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], echo: Echo
) -> None:
    items = [
        request(
            "Get",
            "/status/404",
            event("test", 'pm.test("status is 200", () => pm.response.to.have.status(200));'),
        ),
        request("Other", "/other"),
    ]
    scenario = tmp_path / "s.yaml"
    scenario.write_text(
        "scenarios:\n"
        "  - name: S\n"
        "    steps:\n"
        "      - name: Not found, scripts off\n"
        "        request: Get\n"
        "        scripts: false\n"
        "        expect: {status: 404}\n"
        "      - name: Its test expects the 404\n"
        "        request: Get\n"
        "        scripts: false\n"
        "        test: pm.response.to.have.status(404);\n"
        "      - name: With its own test\n"
        "        request: Other\n"
        "        test: |\n"
        '          pm.test("echoed", () => pm.expect(pm.response.json().path).to.eql("/other"));\n'
        '          pm.test("wrong", () => pm.expect(pm.response.code).to.eql(201));\n'
    )
    done = run(tmp_path, capsys, echo, items, sources=(str(scenario),))
    assert done.code == 1, done.stdout + done.stderr
    assert done.checks("Not found, scripts off") == {}
    assert done.checks("With its own test") == {
        "echoed": "",
        "wrong": "expected 200 to deeply equal 201",
    }
    verdicts = {r["name"]: r["verdict"] for r in done.report["results"]}
    assert verdicts["Its test expects the 404"] == "passed"  # its status is the expected one
    assert [e["what"] for e in done.report["not_run"]] == [
        "its scripts, in step 'Not found, scripts off' of scenario S: 'scripts: false'",
        "its scripts, in step 'Its test expects the 404' of scenario S: 'scripts: false'",
    ]


def test_scripts_of_a_run_share_one_context_as_in_postmans_sandbox(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], echo: Echo
) -> None:
    """postman-sandbox keeps one context per run ("must retain global variables in subsequent
    calls", its test/unit/sandbox-sanity tests): the collection-level helper trick works, while
    ``pm`` and the legacy response globals are each execution's own."""
    helpers = event(
        "prerequest",
        "if (typeof utils === 'undefined') {",
        "  utils = { double: function (n) { return 2 * n; } };",
        "  Object.prototype.greet = function () { return 'hi'; };",
        "}",
    )
    items = [
        request(
            "First",
            "/first",
            event("test", "pm.test('first', () => pm.expect(responseCode.code).to.eql(200));"),
        ),
        request(
            "Second",
            "/second",
            event(
                "prerequest",
                "pm.test('no old response', () => pm.expect(typeof responseCode).to.eql('undefined'));",
            ),
            event(
                "test",
                "pm.test('helpers', () => pm.expect(utils.double(21)).to.eql(42));",
                "pm.test('prototype', () => pm.expect(({}).greet()).to.eql('hi'));",
            ),
        ),
    ]
    done = run(tmp_path, capsys, echo, items, collection_events=[helpers])
    assert done.code == 0, done.stdout + done.stderr
    assert done.checks("Second") == {"no old response": "", "helpers": "", "prototype": ""}


def test_a_script_out_of_time_does_not_break_the_scripts_after_it(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], echo: Echo
) -> None:
    items = [
        request("Loops", "/loops", event("test", "while (true) {}")),
        request("After", "/after", event("test", "pm.test('runs', () => {});")),
    ]
    done = run(tmp_path, capsys, echo, items, "--timeout-script", "200ms")
    assert done.code == 1
    assert done.checks("After") == {"runs": ""}
