"""Input that used to crash the harness (exit 3, a segfault, a traceback) now gets a clear error.

A bad request is that request's own error, named in every report with what to fix, and the run
goes on to the next request; bad input to a command exits 2. Each case failed before its fix
(see docs/RELIABILITY.md, "Bugs found and fixed").
"""

from __future__ import annotations

import io
import json
import os
import re
import subprocess
import sys
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from harness import cli, paths
from harness.build import build_request
from harness.collection import KeyValue, RequestItem, Url
from harness.errors import InputError
from harness.report_text import report_text
from harness.sender import Sender
from harness.variables import Resolver, Scopes
from tests.conftest import PROJECT, run_cli

V21 = "https://schema.getpostman.com/json/collection/v2.1.0/collection.json"
BASE = "{{base_url}}/api/users/current"
CONTROL_NAME = "Control \x01 chars \x1b[31m"


def _request(url: str, headers: dict[str, str] | None = None, **extra: Any) -> dict[str, Any]:
    return {
        "method": "GET",
        "url": url,
        "header": [{"key": k, "value": v} for k, v in (headers or {}).items()],
        **extra,
    }


# name -> (request, what the error message must say); None: the request must pass.
CASES: dict[str, tuple[dict[str, Any], str | None]] = {
    "Latin-1 header": (_request(BASE, {"X-Patient-Name": "José"}), None),
    "CJK header": (
        _request(BASE, {"X-Patient-Name": "日本"}),
        "Header 'X-Patient-Name' of request 'Bad/CJK header' contains '日' (U+65E5)",
    ),
    "Port not a number": (_request("http://h:abc/x"), "Invalid port: 'abc'"),
    "Backslashes": (_request("https:\\\\h/x"), "Use forward slashes"),
    "Unclosed bracket": (_request("http://[::1/x"), "which is not a valid URL"),
    "NUL in URL": (_request("{{base_url}}/api/\x00x"), "not a valid URL"),
    "Lone surrogate": (_request("{{base_url}}/api/\ud800x"), "U+D800, half of a UTF-16"),
    # 200 KB is past httpx's URL limit; a 50 MB value is test_a_50_mb_url_fails_fast.
    "Huge URL": (_request("{{base_url}}/api/" + "a" * 200_000), "(cut short)"),
    "NUL in file src": (
        _request(
            BASE,
            method="POST",
            body={"mode": "formdata", "formdata": [{"key": "f", "type": "file", "src": "a\x00b"}]},
        ),
        "a file name with a NUL byte in it",
    ),
    CONTROL_NAME: (_request(BASE + "\x01"), "not a valid URL"),
    "Still runs": (_request(BASE), None),
}


@dataclass
class BadRun:
    code: int
    stdout: str
    stderr: str
    results: dict[str, dict[str, Any]]
    junit: Path
    html: str


@pytest.fixture(scope="module")
def bad_run(tmp_path_factory: pytest.TempPathFactory) -> BadRun:
    """One CLI run of every bad request (then a good one) against the embedded sandbox."""
    tmp = tmp_path_factory.mktemp("bad-requests")
    shipped = json.loads(paths.DEFAULT_COLLECTION.read_text(encoding="utf-8"))
    collection = {
        "info": {"name": "bad requests", "schema": V21},
        "auth": shipped["auth"],
        "variable": shipped["variable"],
        "item": [
            {
                "name": "Bad",
                "item": [
                    {"name": name, "request": request} for name, (request, _) in CASES.items()
                ],
            }
        ],
    }
    source = tmp / "bad.postman_collection.json"
    source.write_text(json.dumps(collection), encoding="utf-8")
    reports = {kind: tmp / f"report.{kind}" for kind in ("xml", "json", "html")}
    done = run_cli(
        "run",
        str(source),
        "--no-contracts",
        "--token-store",
        str(tmp / "tokens.json"),
        "--junit",
        str(reports["xml"]),
        "--json",
        str(reports["json"]),
        "--html",
        str(reports["html"]),
        cwd=tmp,
    )
    summary = json.loads(reports["json"].read_text(encoding="utf-8"))
    return BadRun(
        done.code,
        done.stdout,
        done.stderr,
        {row["name"]: row for row in summary["results"]},
        reports["xml"],
        reports["html"].read_text(encoding="utf-8"),
    )


def test_bad_requests_fail_alone_and_the_run_goes_on(bad_run: BadRun) -> None:
    assert bad_run.code == 1, bad_run.stdout + bad_run.stderr
    assert "internal error" not in bad_run.stderr and "Traceback" not in bad_run.stderr
    assert list(bad_run.results) == list(CASES)  # every request ran, in order
    assert bad_run.results["Still runs"]["verdict"] == "passed"


@pytest.mark.parametrize("name", [n for n, (_, said) in CASES.items() if said is not None])
def test_each_bad_request_is_its_own_error_in_every_report(bad_run: BadRun, name: str) -> None:
    expected = CASES[name][1]
    assert expected is not None
    row = bad_run.results[name]
    assert (row["verdict"], row["cause"]) == ("error", "bad input")
    assert expected in row["message"]
    assert row["attempts"] == []  # never sent
    assert f"request 'Bad/{name}'" in row["message"]
    shown = report_text(name)  # control characters written as escapes in text reports
    assert f"request 'Bad/{shown}'" in bad_run.stdout and expected in bad_run.stdout
    cases = {case.get("name"): case for case in ET.parse(bad_run.junit).getroot().iter("testcase")}
    error = cases[shown].find("error")
    assert error is not None and expected in (error.get("message") or "")


def test_the_latin1_header_is_sent_as_newman_sends_it(bad_run: BadRun) -> None:
    assert bad_run.results["Latin-1 header"]["verdict"] == "passed"
    seen: list[bytes] = []

    def record(request: httpx.Request) -> httpx.Response:
        seen.append(request.headers.raw[-1][1] if request.headers.raw else b"")
        return httpx.Response(200)

    item = _item("http://127.0.0.1:9/x", {"X-Patient-Name": "José"})
    built = build_request(item, Resolver(Scopes(os_environ={})), files_root=Path.cwd())
    with httpx.Client(transport=httpx.MockTransport(record)) as client:
        Sender(client).send(built, None)
    assert b"Jos\xe9" in seen  # one Latin-1 byte, as Node writes it


def test_control_characters_leave_every_report_well_formed(bad_run: BadRun) -> None:
    ET.parse(bad_run.junit)  # raised "not well-formed (invalid token)" before
    assert not re.search("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]", bad_run.html)
    assert "Control \\x01 chars \\x1b[31m" in bad_run.html
    assert "\x1b" not in bad_run.stdout  # no terminal escape from a request name reaches it
    assert bad_run.results[CONTROL_NAME]["name"] == CONTROL_NAME  # JSON keeps the exact text


def _item(url: str, headers: dict[str, str] | None = None) -> RequestItem:
    return RequestItem(
        name="r",
        folder_path=("F",),
        method="GET",
        url=Url(url),
        headers=tuple(KeyValue(k, v) for k, v in (headers or {}).items()),
        body=None,
        auth=None,
    )


def test_a_50_mb_url_fails_fast_without_a_copy_in_the_message() -> None:
    huge = "a" * (50 * 1024 * 1024)
    resolver = Resolver(Scopes(environment={"huge": huge}, os_environ={}))
    with pytest.raises(InputError) as raised:
        build_request(_item("http://127.0.0.1/{{huge}}"), resolver, files_root=Path.cwd())
    assert "URL too long" in str(raised.value) and len(str(raised.value)) < 1000


# --- contracts import: the nesting guard every other YAML loader has ----------------------------


def test_deeply_nested_openapi_document_is_an_input_error(tmp_path: Path) -> None:
    deep = tmp_path / "deep.yml"
    deep.write_text("openapi: 3.0.0\npaths:\n  /x: " + "[" * 50_000 + "\n")
    # A subprocess: this was a segfault (libyaml's loader recursing in C).
    done = run_cli("contracts", "import", str(deep), "--out", str(tmp_path / "out"))
    assert done.code == 2, done.stderr
    assert done.stderr.startswith(f"error: {deep} is not valid YAML (line 3, column ")
    # Our guard says "nested more than 100 deep"; PyYAML 6.0.4's libyaml stops first at its own
    # limit ("exceeded maximum nesting depth"): either is the clear error this test wants.
    assert "nested more than 100 deep" in done.stderr or "maximum nesting depth" in done.stderr
    assert not (tmp_path / "out").exists()


def test_deeply_nested_corrections_file_is_an_input_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    document = tmp_path / "openapi.yml"
    document.write_text("openapi: 3.0.0\npaths: {}\n")
    deep = tmp_path / "corrections.yaml"
    deep.write_text("corrections:\n  - " + "[" * 50_000 + "\n")
    out = tmp_path / "out"
    args = ["contracts", "import", str(document), "--corrections", str(deep), "--out", str(out)]
    assert cli.main(args) == 2  # was 3 (RecursionError)
    err = capsys.readouterr().err
    assert f"Corrections file {deep} line 2 is not valid YAML: lists and mappings are nested" in err
    assert not out.exists()


# --- the CLI entry: closed pipes, closed stdin, HARNESS_DEBUG -----------------------------------


def test_a_reader_that_stops_early_is_not_an_error() -> None:
    """``harness cassettes show BIG | head -1``: BrokenPipeError, exit 3 before."""
    cassette = PROJECT / "cassettes" / "drchrono-api-harness" / "patients.yaml"
    assert cassette.stat().st_size > 100_000  # more than a pipe holds, so the write must fail
    with subprocess.Popen(
        [sys.executable, "-m", "harness.cli", "cassettes", "show", str(cassette)],
        cwd=PROJECT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    ) as process:
        assert process.stdout is not None and process.stderr is not None
        assert process.stdout.readline().startswith(b"Cassette ")
        process.stdout.close()  # what head does after its first line
        stderr = process.stderr.read().decode()
        code = process.wait(timeout=60)
    assert code == 0, stderr
    assert stderr == ""


def test_a_run_whose_reader_left_still_writes_its_reports(tmp_path: Path) -> None:
    """``harness run --json R | true``: the run finishes, its report is written, exit 0."""
    collection = tmp_path / "one.postman_collection.json"
    shipped = json.loads(paths.DEFAULT_COLLECTION.read_text(encoding="utf-8"))
    shipped["item"] = [{"name": "Current user", "request": _request(BASE)}]
    collection.write_text(json.dumps(shipped), encoding="utf-8")
    report = tmp_path / "run.json"
    args = ["run", str(collection), "--no-contracts", "--json", str(report)]
    with subprocess.Popen(
        [sys.executable, "-m", "harness.cli", *args, "--token-store", str(tmp_path / "t.json")],
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env={**_clean_environment(), "CI": "1", "NO_COLOR": "1"},
    ) as process:
        assert process.stdout is not None and process.stderr is not None
        process.stdout.close()  # gone before the first line
        stderr = process.stderr.read().decode()
        code = process.wait(timeout=120)
    assert code == 0, stderr
    assert stderr == ""
    assert json.loads(report.read_text())["summary"]["passed"] == 1


def _clean_environment() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if not k.startswith("DRCHRONO_")}


def test_login_with_nothing_on_stdin_is_a_clear_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """``harness auth login --no-browser </dev/null``: EOFError, exit 3 before."""
    monkeypatch.setattr(sys, "stdin", io.StringIO(""))
    store = tmp_path / "tokens.json"
    args = ["auth", "login", "--no-browser", "--token-store", str(store)]
    args += ["--env-var", "client_id=id", "--env-var", "client_secret=secret"]
    assert cli.main(args) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: No authorization code was pasted: standard input ended")
    assert "harness auth login` in a terminal" in err
    assert not store.exists()


@pytest.fixture
def broken_command(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Make ``harness cassettes show`` hit a bug (a KeyError) whatever it is given."""

    def boom(*_: object) -> str:
        raise KeyError("bug")

    monkeypatch.setattr("harness.cassettes.show.show", boom)
    yield


@pytest.mark.parametrize("value", ["0", "", "false", "no", "off"])
def test_harness_debug_off_values_keep_the_short_message(
    broken_command: None,
    value: str,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("HARNESS_DEBUG", value)
    assert cli.main(["cassettes", "show", "x.yaml"]) == cli.EXIT_INTERNAL
    err = capsys.readouterr().err
    assert "internal error: KeyError" in err and "Traceback" not in err


def test_harness_debug_shows_the_traceback_and_still_exits_3(
    broken_command: None, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("HARNESS_DEBUG", "1")
    assert cli.main(["cassettes", "show", "x.yaml"]) == cli.EXIT_INTERNAL  # was an uncaught raise
    err = capsys.readouterr().err
    assert "Traceback" in err and "KeyError: 'bug'" in err


def test_masking_and_scanning_a_long_unbroken_value_does_not_hang() -> None:
    # Was quadratic: the e-mail and userinfo patterns retried a run of letters with no "@" from
    # every position, so a 200 KB URL hung the reporters and a base64 body would hang recording.
    script = (
        "from harness import phi_fields as fields\n"
        "from harness.cassettes import scan\n"
        "from harness import masking\n"
        "text = 'http://h/api/' + 'a' * 1_000_000\n"
        "masking.mask_url(text); masking.mask_message(text)\n"
        "fields.EMAIL_SHAPE.findall(text)\n"
        "scan.scan_text(text, masking.default_fields(), 'x.yaml')\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script], cwd=PROJECT, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
