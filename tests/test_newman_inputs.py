"""Issue #14: inputs and decisions where Newman runs a collection and the harness must too.

Each test runs a small collection through the real CLI (in this process) against the echo server
of ``tests/test_wire_conformance.py`` and asserts what arrived and what the user was told. The
expected behaviour is Newman's (postmanlabs/newman, postman-runtime, postman-collection,
postman-url-encoder); each test names the file it comes from.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any, Protocol

import pytest

from tests.conftest import CliResult
from tests.local_server import local_server, serving
from tests.test_wire_conformance import EchoServer, Received

V21 = "https://schema.getpostman.com/json/collection/v2.1.0/collection.json"


@pytest.fixture(scope="module")
def echo() -> Iterator[EchoServer]:
    server = EchoServer()
    with serving(server.httpd):
        yield server


class Run(Protocol):
    def __call__(
        self, collection: dict[str, Any] | Path, *args: str
    ) -> tuple[CliResult, list[Received]]: ...


@pytest.fixture
def run(
    echo: EchoServer,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> Run:
    """``harness run COLLECTION ARGS --no-contracts`` in ``tmp_path``; ``{{echo}}`` in the
    collection's text is the echo server's origin."""
    from harness.cli import main

    def run_collection(
        collection: dict[str, Any] | Path, *args: str
    ) -> tuple[CliResult, list[Received]]:
        if isinstance(collection, dict):
            path = tmp_path / "newman.postman_collection.json"
            path.write_text(json.dumps(collection).replace("{{echo}}", echo.base))
        else:
            path = collection
        echo.received.clear()
        with monkeypatch.context() as patch:
            for name in [n for n in os.environ if n.startswith("DRCHRONO_")]:
                patch.delenv(name)
            patch.setenv("CI", "1")
            patch.setenv("NO_COLOR", "1")
            patch.chdir(tmp_path)
            capsys.readouterr()
            code = main(["run", str(path), *args, "--no-contracts"])
            out, err = capsys.readouterr()
        return CliResult(code, out, err), list(echo.received)

    return run_collection


def collection(*items: dict[str, Any], **extra: Any) -> dict[str, Any]:
    return {"info": {"name": "newman inputs", "schema": V21}, "item": list(items), **extra}


def get(name: str, url: str | dict[str, Any], **request: Any) -> dict[str, Any]:
    return {"name": name, "request": {"method": "GET", "url": url, **request}}


def write_json(path: Path, document: Any) -> Path:
    path.write_text(json.dumps(document))
    return path


# --- 1. Variables nothing defines ---------------------------------------------------------------
# postman-collection lib/superstring/index.js (Substitutor): a {{name}} with no value in any scope
# is left as written ("return ... match"), so Newman sends it. The path is then encoded with
# postman-url-encoder's PATH_ENCODE_SET ({ and } become %7B %7D), the query set keeps them.


def test_an_undefined_variable_is_sent_as_written_after_one_warning(run: Run) -> None:
    result, received = run(
        collection(
            get(
                "first",
                "{{echo}}/items/{{nobody}}?q={{nobody}}",
                header=[{"key": "X-Who", "value": "{{nobody}}-{{nowhere}}"}],
            ),
            get("second", "{{echo}}/again", header=[{"key": "X-Who", "value": "{{nobody}}"}]),
        )
    )
    assert result.code == 0, result.stdout + result.stderr
    first, second = received
    assert first.target == "/items/%7B%7Bnobody%7D%7D?q={{nobody}}"
    assert first.header("X-Who") == "{{nobody}}-{{nowhere}}"
    assert second.header("X-Who") == "{{nobody}}"
    warnings = [line for line in result.stdout.splitlines() if line.startswith("warning:")]
    assert len(warnings) == 1, result.stdout
    assert "{{nobody}} (used by 'first', 'second')" in warnings[0]
    assert "{{nowhere}} (used by 'first')" in warnings[0]
    assert "Unless a script sets them" in warnings[0] and "--strict-variables" in warnings[0]


def test_strict_variables_refuses_the_run_before_sending(run: Run) -> None:
    result, received = run(
        collection(get("first", "{{echo}}/items/{{nobody}}")), "--strict-variables"
    )
    assert result.code == 2 and received == []
    assert result.stderr.startswith("error: Variable {{nobody}} used in request 'first'")


def test_variables_set_by_pre_request_scripts_resolve(run: Run) -> None:
    """Newman runs the pre-request script before it resolves the request (postman-runtime
    lib/runner/extensions/event.command.js, then request.command.js): what the script sets is
    used, in the environment (pm.environment.set) or as a local (pm.variables.set)."""
    script = (
        "const suffix = 'ok'; pm.environment.set('late_' + suffix, 'from-env');"
        "pm.variables['se' + 't']('local_id', 7);"  # a call the static reader cannot see
    )
    result, (got,) = run(
        collection(
            {
                "name": "scripted",
                "event": [{"listen": "prerequest", "script": {"exec": [script]}}],
                "request": {
                    "method": "GET",
                    "url": "{{echo}}/ids/{{local_id}}",
                    "header": [{"key": "X-Late", "value": "{{late_ok}}"}],
                },
            }
        )
    )
    assert result.code == 0, result.stdout + result.stderr
    assert got.target == "/ids/7" and got.header("X-Late") == "from-env"


def test_a_variable_a_later_script_sets_is_sent_as_written_until_then(run: Run) -> None:
    """Newman's request-chaining-test fixture (newman issue #929): the first request uses {{FOO}}
    before its own test script sets it, so Newman sends '{{FOO}}' (postman-collection's
    Substitutor leaves it); the second sends the value. A script that clears a variable makes
    the next user send it as written again (clear-vars-sandbox fixture)."""
    sets = "pm.environment.set('FOO', 'alpha');"
    clears = "pm.environment.unset('FOO');"
    result, received = run(
        collection(
            {
                "name": "seed",
                "event": [{"listen": "test", "script": {"exec": [sets]}}],
                "request": {"method": "GET", "url": "{{echo}}/get?val={{FOO}}"},
            },
            {
                "name": "use",
                "event": [{"listen": "test", "script": {"exec": [clears]}}],
                "request": {"method": "GET", "url": "{{echo}}/get?val={{FOO}}"},
            },
            get("after clearing", "{{echo}}/get?val={{FOO}}"),
        )
    )
    assert result.code == 0, result.stdout + result.stderr
    assert [r.target for r in received] == [
        "/get?val={{FOO}}",
        "/get?val=alpha",
        "/get?val={{FOO}}",
    ]


def test_test_scripts_see_the_request_with_its_auth_and_system_headers(run: Run) -> None:
    """Newman's helper fixture: postman-runtime adds the auth block's and its system headers to
    the request object before sending (lib/authorizer, lib/requester/core.js), so a test script
    finds them on pm.request."""
    script = [
        "const sent = (name) => pm.request.headers.get(name);",
        "pm.test('auth', () => pm.expect(sent('Authorization'))"
        ".to.eql('Basic cG9zdG1hbjpwYXNzd29yZA=='));",
        "pm.test('system', () => pm.expect(sent('Cache-Control')).to.eql('no-cache'));",
    ]
    result, _ = run(
        collection(
            {
                "name": "basicAuth",
                "event": [{"listen": "test", "script": {"exec": script}}],
                "request": {
                    "method": "GET",
                    "url": "{{echo}}/basic-auth",
                    "auth": {
                        "type": "basic",
                        "basic": [
                            {"key": "username", "value": "postman"},
                            {"key": "password", "value": "password"},
                        ],
                    },
                },
            }
        )
    )
    assert result.code == 0, result.stdout + result.stderr


def test_an_unknown_dynamic_variable_is_sent_as_written(run: Run) -> None:
    """postman-collection's Substitutor replaces the dynamic variables it knows and leaves any
    other '{{$name}}' as written (lib/superstring/index.js); Newman sends it so. The known ones
    have Postman's formats (lib/superstring/dynamic-variables.js)."""
    result, (got,) = run(
        collection(
            get("d", "{{echo}}/get?x={{$foo}}&g={{$guid}}&t={{$timestamp}}&r={{$randomInt}}")
        )
    )
    assert result.code == 0, result.stdout + result.stderr
    assert re.fullmatch(
        r"/get\?x=\{\{\$foo\}\}&g=[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}"
        r"&t=1[0-9]{9}&r=[0-9]{1,4}",
        got.target,
    ), got.target


def test_cookies_set_in_one_folder_go_with_the_next_folders_requests(run: Run) -> None:
    """Newman keeps one cookie jar for the whole run (lib/run/index.js: one request.jar()),
    whatever folder a request is in."""
    result, received = run(
        collection(
            {"name": "A", "item": [get("set", "{{echo}}/set-cookie/session=abc")]},
            {"name": "B", "item": [get("use", "{{echo}}/use")]},
        )
    )
    assert result.code == 0, result.stdout + result.stderr
    assert received[1].header("Cookie") == "session=abc"


# --- 7. The DrChrono defaults stay with DrChrono ------------------------------------------------


def test_another_apis_collection_without_e_goes_to_its_own_host_unthrottled(
    run: Run, tmp_path: Path
) -> None:
    """Without -e, a collection that calls another host is sent there: its base_url and
    client_id are its own (the sandbox does not replace them), and DrChrono's 9/s is not
    applied (ten requests would wait a second for it)."""
    items = [
        get(f"r{n}", "{{base_url}}/n/{{client_id}}", header=[{"key": "X-N", "value": str(n)}])
        for n in range(10)
    ]
    variables = [
        {"key": "base_url", "value": "{{echo}}"},
        {"key": "client_id", "value": "mine"},
    ]
    report = tmp_path / "summary.json"
    result, received = run(collection(*items, variable=variables), "--json", str(report))
    assert result.code == 0, result.stdout + result.stderr
    assert [r.target for r in received] == ["/n/mine"] * 10
    assert (
        "target: its own hosts (127.0.0.1 is not DrChrono; no DrChrono rate limit)" in result.stdout
    )
    assert "against its own hosts" in result.stdout
    assert "rate limiter" not in result.stdout + report.read_text()
    assert json.loads(report.read_text())["run"]["target"] == "its own hosts"


def test_an_environment_without_harness_target_is_not_throttled_as_drchrono(
    run: Run, tmp_path: Path
) -> None:
    """The same with an environment that does not say harness_target: it used to be taken for
    live DrChrono and held to 9 requests a second."""
    environment = write_json(
        tmp_path / "env.json", {"values": [{"key": "n", "value": "1", "enabled": True}]}
    )
    items = [get(f"r{n}", "{{echo}}/hard-coded/{{n}}") for n in range(10)]
    result, received = run(collection(*items), "-e", str(environment))
    assert result.code == 0, result.stdout + result.stderr
    assert len(received) == 10 and "rate limiter" not in result.stdout
    assert "target: its own hosts" in result.stdout


def test_the_drchrono_collection_without_e_still_chooses_the_sandbox() -> None:
    """README's `make run`: the shipped collection, no -e, goes to the in-process sandbox; a
    collection that calls drchrono.com does too, and with -e (no harness_target) it is live
    DrChrono, rate limited. The whole run is tests/test_cli_e2e.py's default-run test."""
    from harness import paths
    from harness.collection import load_collection
    from harness.session.options import RunOptions
    from harness.session.target import RunTarget, choose_target, default_rate_limit
    from harness.variables import Scopes

    shipped = load_collection(paths.DEFAULT_COLLECTION)
    scopes = Scopes(collection=dict(shipped.variables), os_environ={})
    choice = choose_target(shipped, scopes, RunOptions())
    assert (choice.kind, choice.shown) == ("sandbox", "sandbox")
    assert choice.reason == "the collection calls app.drchrono.com; no -e given"
    live = choose_target(shipped, scopes, RunOptions(environment=paths.LIVE_ENVIRONMENT))
    assert live.kind == "live" and live.reason.endswith("the environment sets no harness_target")
    assert default_rate_limit(RunTarget(live), scopes) == "9/s,500/h"


# --- 2. Files Newman reads ------------------------------------------------------------------------


def test_newmans_file_shapes_and_encodings_are_read(
    run: Run, echo: EchoServer, tmp_path: Path
) -> None:
    """Newman reads JSON files in the encoding chardet detects, UTF-8 or UTF-16 LE (lib/util.js
    detectEncoding, a BOM dropped by liquid-json); an environment or globals file is whatever
    postman-collection's VariableScope takes, so also a bare list of {key, value}
    (lib/run/options.js loadScopes); a collection needs no 'info' (new Collection(json))."""
    document = {
        "item": [
            get("no info", echo.base + "/{{from_globals}}/{{from_env}}/{{from_bare}}"),
        ]
    }
    path = tmp_path / "exported.postman_collection.json"
    path.write_bytes(b"\xef\xbb\xbf" + json.dumps(document).encode())  # UTF-8 with a BOM
    environment = tmp_path / "env.json"
    environment.write_text(
        json.dumps({"values": [{"key": "from_env", "value": "é-env"}]}), encoding="utf-16"
    )  # with a BOM, as Windows PowerShell writes it
    globals_file = tmp_path / "globals.json"
    globals_file.write_bytes(
        json.dumps(
            [{"key": "from_globals", "value": "g"}, {"key": "from_bare", "value": "bare"}]
        ).encode("utf-16-le")  # no BOM
    )
    result, received = run(path, "-e", str(environment), "-g", str(globals_file))
    assert result.code == 0, result.stdout + result.stderr
    assert received[0].target == "/g/%C3%A9-env/bare"
    assert result.stdout.splitlines()[1] == "exported against its own hosts"


def test_a_query_entry_with_a_null_key_is_sent_as_postman_collection_writes_it(
    run: Run,
) -> None:
    """postman-collection lib/collection/query-param.js: a key that is not text is written as
    nothing and a value that is not text without '=' (unparseSingle), entries joined by '&'."""
    url = {
        "raw": "{{echo}}/q?=v&&a=1",
        "query": [
            {"key": None, "value": "v"},
            {"key": None, "value": None},
            {"key": "a", "value": "1"},
        ],
    }
    result, (got,) = run(collection({"name": "null key", "request": {"url": url}}))
    assert result.code == 0, result.stdout + result.stderr
    assert got.target == "/q?=v&&a=1"


# --- 3. Dot segments ------------------------------------------------------------------------------
# postman-url-encoder index.js toNodeUrl: the path is url.getPath() percent-encoded, with no
# removal of '.' and '..' segments (only a redirect's Location is resolved, resolveNodeUrl), and
# Node's http module writes it on the request line as it is.


def test_dot_segments_are_sent_as_written(run: Run, echo: EchoServer) -> None:
    parts: dict[str, Any] = {
        "raw": "{{echo}}/a/./b/../c?x=1",
        "protocol": "http",
        "host": ["127", "0", "0", "1"],
        "port": echo.base.rsplit(":", 1)[-1],
        "path": ["a", ".", "b", "..", "c", "d e"],
        "query": [{"key": "x", "value": "1"}],
    }
    result, (as_text, as_parts) = run(
        collection(get("text", "{{echo}}/a/./b/../c?x=1"), get("parts", parts))
    )
    assert result.code == 0, result.stdout + result.stderr
    assert as_text.target == "/a/./b/../c?x=1"
    assert as_parts.target == "/a/./b/../c/d%20e?x=1"


# --- 4. CSV data files ----------------------------------------------------------------------------
# newman lib/run/options.js parses -d CSV with csv-parse 4 and {columns: true, escape: '"',
# trim: true, relax: true, relax_column_count: true, bom: true, cast: csvAutoParse}; csvAutoParse
# leaves quoted cells alone and turns unquoted ones matching lib/util.js isInt / isFloat into
# numbers (parseInt / parseFloat), which substitute as JavaScript writes them.


def test_csv_data_is_read_with_newmans_csv_parse_options(run: Run, tmp_path: Path) -> None:
    data = tmp_path / "rows.csv"
    data.write_bytes(
        "\ufeffid , name , zip,flag\r\n"
        ' 007 , " Ann Lee " ,01234 ,true\r\n'
        '1.50,"say ""hi"", then go",1e3\r\n'
        "\r\n"  # an empty line: one more iteration, its first column empty
        '0,"",+5,x"y\r\n'.encode()
    )
    row = {
        "name": "row",
        "request": {
            "method": "POST",
            "url": "{{echo}}/{{id}}",
            "body": {"mode": "raw", "raw": "{{name}}|{{zip}}|{{flag}}"},
        },
    }
    result, received = run(collection(row), "-d", str(data))
    assert result.code == 0, result.stdout + result.stderr
    assert [(r.target, r.body.decode()) for r in received] == [
        ("/7", " Ann Lee |1234|true"),
        ("/1.5", 'say "hi", then go|1000|{{flag}}'),  # a short row leaves 'flag' undefined
        ("/", "{{name}}|{{zip}}|{{flag}}"),
        ("/0", '|5|x"y'),
    ]


def test_a_data_file_is_json_or_csv_by_its_content_not_its_name(run: Run, tmp_path: Path) -> None:
    """newman lib/run/options.js iterationData: JSON.parse first, csv-parse when that fails,
    whatever the file is called (a .txt export, a .csv holding JSON)."""
    csv_named_txt = tmp_path / "rows.txt"
    csv_named_txt.write_text("id,name\n1,Ann\n")
    json_named_csv = tmp_path / "rows.csv"
    json_named_csv.write_text('[{"id": 2, "name": "Bo"}]')
    row = get("row", "{{echo}}/{{id}}?name={{name}}")
    sent = []
    for data in (csv_named_txt, json_named_csv):
        result, received = run(collection(row), "-d", str(data))
        assert result.code == 0, result.stdout + result.stderr
        sent += [r.target for r in received]
    assert sent == ["/1?name=Ann", "/2?name=Bo"]


# --- 5. Body Content-Types ------------------------------------------------------------------------


def test_a_file_body_is_typed_by_its_name_and_an_empty_form_is_untyped(
    run: Run, tmp_path: Path
) -> None:
    """postman-runtime lib/requester/core-body-builder.js gives a file body to postman-request as
    a read stream, and request.js types a piped file by its name (mime-types), else
    application/octet-stream; a Content-Type header of the request wins. An empty urlencoded
    body is not sent at all, so it has no Content-Type (core.js getRequestBody isEmpty)."""
    (tmp_path / "notes.txt").write_bytes(b"plain")
    (tmp_path / "blob.unknownext").write_bytes(b"\x00\x01")

    def post(name: str, body: dict[str, Any], **request: Any) -> dict[str, Any]:
        return {
            "name": name,
            "request": {"method": "POST", "url": "{{echo}}/" + name, "body": body, **request},
        }

    result, received = run(
        collection(
            post("text", {"mode": "file", "file": {"src": "notes.txt"}}),
            post("unknown", {"mode": "file", "file": {"src": "blob.unknownext"}}),
            post(
                "own",
                {"mode": "file", "file": {"src": "notes.txt"}},
                header=[{"key": "content-type", "value": "application/x-mine"}],
            ),
            post("form", {"mode": "urlencoded", "urlencoded": []}),
        )
    )
    assert result.code == 0, result.stdout + result.stderr
    assert [(r.body, r.header("Content-Type")) for r in received] == [
        (b"plain", "text/plain"),
        (b"\x00\x01", "application/octet-stream"),
        (b"plain", "application/x-mine"),
        (b"", None),
    ]


# --- 6. Expected statuses in legacy test scripts --------------------------------------------------


@pytest.fixture(scope="module")
def status_server() -> Iterator[str]:
    """Answers /status/NNN with status NNN and an empty JSON object."""
    from http.server import BaseHTTPRequestHandler

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(int(self.path.rsplit("/", 1)[-1]))
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", "2")
            self.end_headers()
            self.wfile.write(b"{}")

        def log_message(self, format: str, *args: Any) -> None:
            pass

    with serving(local_server(Handler)) as url:
        yield url


@pytest.mark.parametrize("scripts", [[], ["--no-scripts"]], ids=["scripts", "no-scripts"])
def test_a_legacy_tests_assignment_makes_its_status_the_expected_one(
    run: Run, status_server: str, tmp_path: Path, scripts: list[str]
) -> None:
    """Newman runs Postman's legacy sandbox form (postman-sandbox's `tests` object and
    `responseCode`): the test passes on a 404, and so must the run, as it does for
    pm.response.to.have.status(404)."""

    def expecting_404(name: str, line: str) -> dict[str, Any]:
        return {
            "name": name,
            "event": [{"listen": "test", "script": {"exec": [line]}}],
            "request": {"method": "GET", "url": status_server + "/status/404"},
        }

    report = tmp_path / "summary.json"
    result, _ = run(
        collection(
            expecting_404("legacy", 'tests["Status code is 404"] = responseCode.code === 404;'),
            expecting_404("pm", "pm.response.to.have.status(404);"),
        ),
        *scripts,
        "--json",
        str(report),
    )
    assert result.code == 0, result.stdout + result.stderr
    summary = json.loads(report.read_text())["summary"]
    assert (summary["passed"], summary["failed"]) == (2, 0)
    if scripts:  # the legacy line is read, so it is not listed as JavaScript left unexecuted
        assert "Not run" not in result.stdout, result.stdout
