"""Newman's command-line options on `harness run` (issue #14), seen as a user sees them: the
requests an echo server receives, exit codes, console text, report and exported files.

Semantics follow Newman's bin/newman.js and lib/run/options.js (every time in milliseconds) and
postman-runtime (lib/runner/util.js getIterationData: past the last data row, the last row
again; a request's protocolProfileBehavior beats the run's --ignore-redirects/--insecure).
One echo server serves the whole module.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from harness import cli
from tests.local_server import serving

V21 = "https://schema.getpostman.com/json/collection/v2.1.0/collection.json"
SLOW_S = 1.0  # how long /slow takes to answer (only the --timeout test calls it)


@dataclass
class Arrival:
    method: str
    path: str
    headers: dict[str, str]
    body: str
    at: float  # time.monotonic() when it arrived


@dataclass
class Echo:
    url: str = ""
    seen: list[Arrival] = field(default_factory=list)
    answered: list[float] = field(default_factory=list)  # when each answer was sent

    @property
    def paths(self) -> list[str]:
        return [a.path for a in self.seen]


@pytest.fixture(scope="module")
def server() -> Iterator[Echo]:
    state = Echo()

    class Handler(BaseHTTPRequestHandler):
        def _answer(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length).decode()
            state.seen.append(
                Arrival(self.command, self.path, dict(self.headers.items()), body, time.monotonic())
            )
            if self.path.startswith("/slow"):
                time.sleep(SLOW_S)
            if self.path.startswith("/redirect"):
                self.send_response(302)
                self.send_header("Location", "/landed")
                self.send_header("Content-Length", "0")
                self.end_headers()
                state.answered.append(time.monotonic())
                return
            status = int(self.path.split("/status/")[1][:3]) if "/status/" in self.path else 200
            payload = json.dumps(
                {"path": self.path, "body": body, "first_name": "Adalinda", "id": 42}
            ).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)
            state.answered.append(time.monotonic())

        do_GET = do_POST = do_PUT = _answer

        def log_message(self, *args: object) -> None:
            pass

    class Server(ThreadingHTTPServer):
        daemon_threads = True

        def handle_error(self, request: object, client_address: object) -> None:
            pass  # the client left (the --timeout test cuts /slow short): nothing to report

    httpd = Server(("127.0.0.1", 0), Handler)
    with serving(httpd) as url:
        state.url = url
        yield state


@pytest.fixture
def echo(server: Echo) -> Echo:
    server.seen.clear()
    server.answered.clear()
    return server


def get(name: str, path: str, **request: Any) -> dict[str, Any]:
    extra_item = request.pop("item_extra", {})
    return {
        "name": name,
        "request": {"method": "GET", "url": "{{echo}}" + path, **request},
        **extra_item,
    }


def script_event(*lines: str) -> dict[str, Any]:
    return {"listen": "test", "script": {"exec": list(lines)}}


@dataclass
class Run:
    code: int
    stdout: str
    stderr: str
    report: dict[str, Any]

    def result(self, name: str) -> dict[str, Any]:
        return next(r for r in self.report["results"] if r["name"] == name)


def run(
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    echo: Echo,
    items: list[dict[str, Any]],
    *extra: str,
    collection: dict[str, Any] | None = None,
    environment: list[dict[str, Any]] | None = None,
) -> Run:
    document = {"info": {"name": "newman options", "schema": V21}, "item": items}
    document.update(collection or {})
    path = tmp_path / "c.postman_collection.json"
    path.write_text(json.dumps(document))
    env = tmp_path / "env.json"
    values = [{"key": "echo", "value": echo.url}, *(environment or [])]
    env.write_text(json.dumps({"name": "Echo env", "values": values}))
    report = tmp_path / "report.json"
    report.unlink(missing_ok=True)
    try:
        code = cli.main(
            ["run", str(path), "-e", str(env), "--no-contracts", "--json", str(report), *extra]
        )
    except SystemExit as exc:  # argparse's usage errors
        code = int(exc.code or 0)
    out = capsys.readouterr()
    data = json.loads(report.read_text()) if report.exists() else {}
    return Run(code, out.out, out.err, data)


# --- -n/--iteration-count --------------------------------------------------------------------


def test_iteration_count_without_data_runs_the_collection_n_times(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], echo: Echo
) -> None:
    done = run(tmp_path, capsys, echo, [get("Ping", "/ping")], "-n", "3")
    assert done.code == 0, done.stderr
    assert echo.paths == ["/ping"] * 3
    assert done.report["summary"]["total"] == 3


def test_iteration_count_with_data_reuses_the_last_row_or_stops_early(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], echo: Echo
) -> None:
    rows = tmp_path / "rows.csv"
    rows.write_text("who\nann\nbob\n")
    items = [get("Who", "/who/{{who}}")]
    more = run(tmp_path, capsys, echo, items, "-d", str(rows), "-n", "4")
    assert more.code == 0, more.stderr
    # postman-runtime's getIterationData: past the last row, the last row again.
    assert echo.paths == ["/who/ann", "/who/bob", "/who/bob", "/who/bob"]
    echo.seen.clear()
    fewer = run(tmp_path, capsys, echo, items, "-d", str(rows), "-n", "1")
    assert fewer.code == 0 and echo.paths == ["/who/ann"]


def test_iteration_count_must_be_a_positive_whole_number(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], echo: Echo
) -> None:
    done = run(tmp_path, capsys, echo, [get("Ping", "/ping")], "-n", "0")
    assert done.code == 2
    assert "argument -n/--iteration-count: '0'" in done.stderr and "1 or more" in done.stderr
    assert echo.seen == []


# --- times: --delay-request, --timeout and their units ---------------------------------------


def test_delay_request_pauses_between_requests(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], echo: Echo
) -> None:
    done = run(
        tmp_path, capsys, echo, [get("One", "/one"), get("Two", "/two")], "--delay-request", "150ms"
    )
    assert done.code == 0, done.stderr
    assert echo.paths == ["/one", "/two"]
    assert echo.seen[1].at - echo.answered[0] >= 0.14


def test_timeout_stops_the_run_reports_what_did_not_finish_and_exits_1(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], echo: Echo
) -> None:
    items = [get("Fast", "/fast"), get("Slow", "/slow"), get("Never", "/never")]
    started = time.monotonic()
    done = run(tmp_path, capsys, echo, items, "--timeout", "400ms")
    assert time.monotonic() - started < SLOW_S + 0.5  # the slow request was cut short
    assert done.code == 1
    assert "stopped at its --timeout of 0.4s" in done.stderr
    assert echo.paths == ["/fast", "/slow"]  # nothing was sent after the deadline
    assert done.result("Fast")["verdict"] == "passed"
    assert "--timeout passed while waiting" in done.result("Slow")["message"]
    never = done.result("Never")
    assert never["verdict"] == "skipped" and "not run" in never["message"]
    # The reports are still written, and say the run was cut.
    assert any("--timeout" in entry["what"] for entry in done.report["not_run"])
    assert "Not run" in done.stdout and "FAILED" in done.stdout


@pytest.mark.parametrize("option", ["--timeout-request", "--timeout", "--delay-request"])
def test_a_time_without_its_unit_is_refused_as_ambiguous(
    option: str, tmp_path: Path, capsys: pytest.CaptureFixture[str], echo: Echo
) -> None:
    done = run(tmp_path, capsys, echo, [get("Ping", "/ping")], option, "5000")
    assert done.code == 2
    assert f"{option}: '5000' has no unit" in done.stderr
    assert "Write 5000ms or 5000s" in done.stderr
    assert echo.seen == []


def test_times_with_units_are_accepted(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], echo: Echo
) -> None:
    done = run(
        tmp_path,
        capsys,
        echo,
        [get("Ping", "/ping")],
        "--timeout-request",
        "5000ms",
        "--timeout",
        "1.5s",
        "--delay-request",
        "0",
        "--timeout-script",
        "2s",
    )
    assert done.code == 0, done.stderr


# --- redirects, exit code, variables, working directory --------------------------------------


def test_ignore_redirects_returns_the_3xx_unless_the_request_says_follow(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], echo: Echo
) -> None:
    follows = {"item_extra": {"protocolProfileBehavior": {"followRedirects": True}}}
    items = [get("Moved", "/redirect"), get("Moved but followed", "/redirect", **follows)]
    done = run(tmp_path, capsys, echo, items, "--ignore-redirects")
    assert echo.paths == ["/redirect", "/redirect", "/landed"]
    assert done.result("Moved")["status"] == 302
    assert done.result("Moved but followed")["status"] == 200


def test_suppress_exit_code_exits_0_on_failed_checks_but_2_on_bad_input(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], echo: Echo
) -> None:
    failing = run(tmp_path, capsys, echo, [get("Missing", "/status/404")], "-x")
    assert failing.code == 0
    assert failing.result("Missing")["verdict"] == "failed" and "FAILED" in failing.stdout
    bad = run(tmp_path, capsys, echo, [get("Ping", "/ping")], "-x", "-g", str(tmp_path / "no.json"))
    assert bad.code == 2


def test_global_var_is_sent_and_beats_the_globals_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], echo: Echo
) -> None:
    globals_file = tmp_path / "globals.json"
    globals_file.write_text(json.dumps({"values": [{"key": "g", "value": "from-file"}]}))
    items = [get("G", "/g/{{g}}/{{h}}")]
    done = run(
        tmp_path,
        capsys,
        echo,
        items,
        "-g",
        str(globals_file),
        "--global-var",
        "g=from-cli",
        "--global-var",
        "h=x=y",
    )
    assert done.code == 0, done.stderr
    assert echo.paths == ["/g/from-cli/x=y"]
    bad = run(tmp_path, capsys, echo, items, "--global-var", "novalue")
    assert bad.code == 2 and "--global-var 'novalue' is not of the form NAME=VALUE" in bad.stderr


def test_working_dir_is_where_file_bodies_resolve_and_stay_inside(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], echo: Echo
) -> None:
    work = tmp_path / "work"
    work.mkdir()
    (work / "body.txt").write_text("from the working dir")
    (tmp_path / "outside.txt").write_text("outside")

    def upload(name: str, src: str) -> dict[str, Any]:
        item = get(name, "/upload", body={"mode": "file", "file": {"src": src}})
        item["request"]["method"] = "POST"
        return item

    items = [upload("Inside", "body.txt"), upload("Outside", "../outside.txt")]
    done = run(tmp_path, capsys, echo, items, "--working-dir", str(work))
    assert [a.body for a in echo.seen] == ["from the working dir"]
    outside = done.result("Outside")
    assert outside["verdict"] == "error" and "outside" in outside["message"]
    missing = run(tmp_path, capsys, echo, items, "--working-dir", str(tmp_path / "nope"))
    assert missing.code == 2 and "--working-dir" in missing.stderr


# --- exports ---------------------------------------------------------------------------------


def test_exports_hold_what_scripts_set_in_postman_shapes_with_secrets_empty(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], echo: Echo
) -> None:
    script = script_event(
        'pm.environment.set("patient_id", String(pm.response.json().id));',
        'pm.globals.set("seen", "yes");',
        'pm.collectionVariables.set("last_path", pm.response.json().path);',
    )
    items = [get("Create", "/create", item_extra={"event": [script]})]
    auth = {
        "type": "apikey",
        "apikey": [{"key": "key", "value": "X-Key"}, {"key": "value", "value": "{{api_key}}"}],
    }
    environment = [
        {"key": "client_secret", "value": "very-secret-value"},
        {"key": "api_key", "value": "api-key-value-123"},
        {"key": "cs", "value": "typed-secret-value", "type": "secret"},
        {"key": "plain", "value": "kept"},
    ]
    paths = {name: tmp_path / f"{name}.json" for name in ("env", "globals", "collection")}
    done = run(
        tmp_path,
        capsys,
        echo,
        items,
        "--export-environment",
        str(paths["env"]),
        "--export-globals",
        str(paths["globals"]),
        "--export-collection",
        str(paths["collection"]),
        collection={"auth": auth, "variable": [{"key": "last_path", "value": ""}]},
        environment=environment,
    )
    assert done.code == 0, done.stderr
    env = json.loads(paths["env"].read_text())
    assert env["_postman_variable_scope"] == "environment" and env["name"] == "Echo env"
    values = {v["key"]: v for v in env["values"]}
    assert values["patient_id"]["value"] == "42"  # set by the test script
    assert values["plain"] == {"key": "plain", "value": "kept", "type": "default", "enabled": True}
    for secret in ("client_secret", "api_key", "cs"):
        assert values[secret] == {"key": secret, "value": "", "type": "secret", "enabled": True}
    text = paths["env"].read_text()
    assert "very-secret-value" not in text and "api-key-value-123" not in text
    assert "typed-secret-value" not in text
    globals_doc = json.loads(paths["globals"].read_text())
    assert globals_doc["_postman_variable_scope"] == "globals"
    assert {v["key"]: v["value"] for v in globals_doc["values"]} == {"seen": "yes"}
    exported = json.loads(paths["collection"].read_text())
    assert exported["info"]["name"] == "newman options" and exported["item"][0]["name"] == "Create"
    assert {v["key"]: v["value"] for v in exported["variable"]} == {"last_path": "/create"}
    # The console says what was written and what was withheld.
    assert f"exported environment to {paths['env']}" in done.stdout
    assert "written empty as type secret: " in done.stdout and "client_secret" in done.stdout
    assert list(tmp_path.glob("*.tmp*")) == []  # written atomically: no temp left behind
    nowhere = tmp_path / "missing-dir" / "env.json"
    bad = run(tmp_path, capsys, echo, items, "--export-environment", str(nowhere))
    assert bad.code == 2 and "missing-dir does not exist" in bad.stderr
    assert len(echo.seen) == 1  # refused before anything was sent


# --- console: --color, -v and failures ------------------------------------------------------

ANSI = re.compile(r"\x1b\[[0-9;]*m")


def test_color_on_off_and_no_color(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], echo: Echo, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("NO_COLOR", raising=False)
    monkeypatch.delenv("FORCE_COLOR", raising=False)
    items = [get("Ping", "/ping")]
    assert ANSI.search(run(tmp_path, capsys, echo, items, "--color", "on").stdout)
    assert not ANSI.search(run(tmp_path, capsys, echo, items, "--color", "off").stdout)
    assert not ANSI.search(run(tmp_path, capsys, echo, items).stdout)  # auto, not a terminal
    monkeypatch.setenv("NO_COLOR", "1")
    assert not ANSI.search(run(tmp_path, capsys, echo, items, "--color", "auto").stdout)
    bad = run(tmp_path, capsys, echo, items, "--color", "sometimes")
    assert bad.code == 2


def test_verbose_shows_every_request_and_response_masked(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], echo: Echo
) -> None:
    items = [
        get(
            "Post",
            "/post?q=1",
            header=[
                {"key": "Authorization", "value": "Bearer {{token}}"},
                {"key": "X-Trace", "value": "trace-1"},
            ],
            body={"mode": "raw", "raw": '{"first_name": "Adalinda", "note": "hello"}'},
        )
    ]
    items[0]["request"]["method"] = "POST"
    environment = [{"key": "token", "value": "tok-abcdef-123456", "type": "secret"}]
    done = run(tmp_path, capsys, echo, items, "-v", environment=environment)
    assert done.code == 0, done.stderr
    out = done.stdout
    assert f"→ POST {echo.url}/post?q=1" in out
    assert "X-Trace: trace-1" in out and '"note": "hello"' in out
    assert "← 200" in out and "content-type: application/json" in out.lower()
    # Secrets and patient data never reach the console.
    assert "tok-abcdef-123456" not in out and "Adalinda" not in out
    quiet = run(tmp_path, capsys, echo, items, environment=environment)
    assert "→ POST" not in quiet.stdout  # a passing request without -v: one line


def test_a_failed_request_shows_its_request_and_response_without_verbose(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], echo: Echo
) -> None:
    done = run(tmp_path, capsys, echo, [get("Missing", "/status/404"), get("Fine", "/ping")])
    assert done.code == 1
    assert f"→ GET {echo.url}/status/404" in done.stdout
    assert "← 404" in done.stdout and '"path": "/status/404"' in done.stdout
    assert f"→ GET {echo.url}/ping" not in done.stdout
    assert "Adalinda" not in done.stdout


def test_a_request_its_test_script_failed_shows_its_request_and_response(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], echo: Echo
) -> None:
    check = script_event('pm.test("id is 43", () => pm.expect(pm.response.json().id).to.eql(43));')
    done = run(tmp_path, capsys, echo, [get("Checked", "/checked", item_extra={"event": [check]})])
    assert done.code == 1
    assert f"→ GET {echo.url}/checked" in done.stdout and '"id": 42' in done.stdout


def test_a_failed_scenario_step_shows_its_request_and_response(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], echo: Echo
) -> None:
    scenario = tmp_path / "steps.yaml"
    scenario.write_text(
        "scenarios:\n"
        "  - name: Echo walk\n"
        "    steps:\n"
        "      - name: Wrong status\n"
        "        method: GET\n"
        '        url: "{{ echo }}/status/404"\n'
        "        expect: {status: 200}\n"
    )
    path = tmp_path / "c.postman_collection.json"
    path.write_text(json.dumps({"info": {"name": "c", "schema": V21}, "item": []}))
    env = tmp_path / "env.json"
    env.write_text(json.dumps({"values": [{"key": "echo", "value": echo.url}]}))
    code = cli.main(["run", str(path), str(scenario), "-e", str(env), "--no-contracts"])
    out = capsys.readouterr().out
    assert code == 1
    assert f"→ GET {echo.url}/status/404" in out and "← 404" in out


def test_timeout_reports_the_scenarios_it_stopped(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], echo: Echo
) -> None:
    scenario = tmp_path / "steps.yaml"
    scenario.write_text(
        "scenarios:\n"
        "  - name: Slow one\n"
        "    steps:\n"
        '      - {name: slow, method: GET, url: "{{ echo }}/slow"}\n'
        "  - name: Later one\n"
        "    steps:\n"
        '      - {name: later, method: GET, url: "{{ echo }}/later"}\n'
    )
    path = tmp_path / "c.postman_collection.json"
    path.write_text(json.dumps({"info": {"name": "c", "schema": V21}, "item": []}))
    env = tmp_path / "env.json"
    env.write_text(json.dumps({"values": [{"key": "echo", "value": echo.url}]}))
    report = tmp_path / "report.json"
    code = cli.main(
        ["run", str(path), str(scenario), "-e", str(env), "--no-contracts", "--timeout", "300ms"]
        + ["--json", str(report)]
    )
    capsys.readouterr()
    assert code == 1 and echo.paths == ["/slow"]
    later = next(r for r in json.loads(report.read_text())["results"] if r["name"] == "later")
    assert (
        later["verdict"] == "skipped" and "--timeout passed before it was sent" in later["message"]
    )
