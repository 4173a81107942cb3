"""Console, JUnit and JSON reporters: what CI systems and people read."""

from __future__ import annotations

import io
import json
import xml.etree.ElementTree as ET
from pathlib import Path

from harness.reporters import ConsoleReporter, JsonReporter, JUnitReporter
from harness.results import Attempt, Cause, Check, RequestResult, RunInfo, RunSummary, Verdict

INFO = RunInfo("DrChrono API", "sandbox", 4, "c.json")


def results() -> list[RequestResult]:
    ok = RequestResult(
        "Patients", "List patients", "GET", "https://h/api/patients", index=0, status=200
    )
    contract = RequestResult(
        "Patients",
        "Create patient",
        "POST",
        "https://h/api/patients",
        index=1,
        status=201,
        verdict=Verdict.FAILED,
        cause=Cause.CONTRACT,
        checks=[Check("contract", False, "expected string, got integer", json_path="$.first_name")],
    )
    fault = RequestResult(
        "Appointments",
        "List",
        "GET",
        "https://h/api/appointments",
        index=2,
        status=500,
        verdict=Verdict.ERROR,
        cause=Cause.SERVER_FAULT,
        checks=[Check("status", False, "expected status 200, got 500")],
        attempts=[Attempt(500, 3.0, "retrying after 0.25s (backoff)"), Attempt(500, 2.0)],
    )
    skipped = RequestResult(
        "Appointments",
        "Get",
        "GET",
        "https://h/api/appointments/{{id}}",
        index=3,
        verdict=Verdict.SKIPPED,
        cause=Cause.INPUT,
        message="not sent: {{id}} has no value",
    )
    return [ok, contract, fault, skipped]


def feed(reporter: object) -> RunSummary:
    summary = RunSummary(coverage={"text": "GET /api/patients  1/8\nCovered 1 of 330 operations."})
    reporter.start(INFO)  # type: ignore[attr-defined]
    for result in results():
        summary.add(result)
        reporter.result(result)  # type: ignore[attr-defined]
    reporter.finish(summary)  # type: ignore[attr-defined]
    return summary


def test_junit_has_a_suite_per_folder_failures_errors_and_skips(tmp_path: Path) -> None:
    feed(JUnitReporter(tmp_path / "j.xml"))
    root = ET.parse(tmp_path / "j.xml").getroot()
    assert (root.get("tests"), root.get("failures"), root.get("errors"), root.get("skipped")) == (
        "4",
        "1",
        "1",
        "1",
    )
    suites = {s.get("name"): s for s in root}
    assert list(suites) == ["Patients", "Appointments"]
    create = suites["Patients"].findall("testcase")[1]
    assert create.get("classname") == "drchrono_api.patients"
    failure = create.find("failure")
    assert failure is not None and "$.first_name" in (failure.get("message") or "")
    listing = suites["Appointments"].find("testcase")
    assert listing is not None and listing.find("error") is not None
    assert "retrying after" in (listing.findtext("system-out") or "")


def test_json_summary_streams_every_result(tmp_path: Path) -> None:
    feed(JsonReporter(tmp_path / "s.json"))
    data = json.loads((tmp_path / "s.json").read_text())
    assert data["summary"] == {
        "total": 4,
        "passed": 1,
        "failed": 1,
        "errors": 1,
        "skipped": 1,
        "elapsed_s": 0.0,
        "ok": False,
    }
    assert [r["verdict"] for r in data["results"]] == ["passed", "failed", "error", "skipped"]
    assert data["results"][1]["checks"][0]["json_path"] == "$.first_name"
    assert "text" not in data["coverage"]


def test_console_lists_reasons_and_keeps_the_coverage_table_for_verbose() -> None:
    out = io.StringIO()
    feed(ConsoleReporter(out))
    text = out.getvalue()
    assert "contract at $.first_name: expected string, got integer" in text
    assert "retrying after 0.25s" in text
    assert "not sent: {{id}} has no value" in text
    assert "Covered 1 of 330 operations." in text and "1/8" not in text
    assert text.rstrip().endswith("FAILED")
    verbose = io.StringIO()
    feed(ConsoleReporter(verbose, verbose=True))
    assert "GET /api/patients  1/8" in verbose.getvalue()


def test_console_prints_names_and_messages_verbatim_not_as_markup() -> None:
    out = io.StringIO()
    reporter = ConsoleReporter(out)
    reporter.start(INFO)
    reporter.result(
        RequestResult(
            "[admin]",
            "[/b] odd name",
            "GET",
            "https://h/x",
            status=500,
            verdict=Verdict.ERROR,
            cause=Cause.SERVER_FAULT,
            message="token [REDACTED] [/x]",
        )
    )
    reporter.finish(RunSummary())
    text = out.getvalue()
    assert "[admin]" in text and "[/b] odd name" in text and "token [REDACTED] [/x]" in text


class _CountingStream(io.StringIO):
    """A pipe-like stream that remembers what had reached it at each flush."""

    def __init__(self) -> None:
        super().__init__()
        self.flushed: list[str] = []
        self.writes = 0

    def write(self, text: str) -> int:
        self.writes += 1
        return super().write(text)

    def flush(self) -> None:
        self.flushed.append(self.getvalue())
        super().flush()


def test_console_in_a_pipe_buffers_lines_and_flushes_at_each_new_suite() -> None:
    out = _CountingStream()
    reporter = ConsoleReporter(out)
    reporter.start(INFO)
    flushes_before, writes_before = len(out.flushed), out.writes
    for index in range(200):
        suite = "Patients" if index < 100 else "Doctors"
        reporter.result(RequestResult(suite, f"GET {index}", "GET", "https://h/x", status=200))
    # Not one flush per line: one at each new suite (plus one per half second on a slow box).
    # The reporter buffers itself: the stream may be unbuffered (PYTHONUNBUFFERED=1 in CI).
    assert len(out.flushed) - flushes_before <= 4
    assert out.writes - writes_before <= 4
    assert any(f.rstrip().endswith("Doctors\n  ✓ GET 100  GET 200 0 ms") for f in out.flushed)
    reporter.finish(RunSummary())
    lines = out.getvalue().splitlines()
    assert lines[1:4] == ["Patients", "  ✓ GET 0  GET 200 0 ms", "  ✓ GET 1  GET 200 0 ms"]
    assert lines[-1] == "PASSED"


def test_console_prints_emoji_codes_and_control_characters_in_names_as_data() -> None:
    out = io.StringIO()
    reporter = ConsoleReporter(out)
    reporter.result(
        RequestResult(":smile: suite", "a\x07b\tc :thumbs_up:", "GET", "https://h/x", status=200)
    )
    # A control character is shown as a visible escape (report_text), never sent to the terminal.
    assert out.getvalue() == ":smile: suite\n  ✓ a\\x07b      c :thumbs_up:  GET 200 0 ms\n"
