"""The HTML report as a person sees it: totals, grouped rows, details, masking, filters.

The pure tests render a report from hand-built results and read the HTML back with a small
parser. The ``browser`` tests open it in headless Chromium: a screenshot (the red FAILED banner
is on screen), the DOM after the page's script ran, and clicks through chromedriver's W3C HTTP API
(httpx on 127.0.0.1; no selenium).
"""

from __future__ import annotations

import base64
import json
import os
import re
import shutil
import socket
import struct
import subprocess
import time
import zlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import httpx
import pytest

from harness.phi_fields import load_phi_fields
from harness.reporters.html import (
    HtmlReporter,
    coverage_lines,
    mask_json,
    mask_text,
    mask_url,
    render_body,
)
from harness.results import Attempt, Cause, Check, RequestResult, RunInfo, RunSummary, Verdict

CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")

# Planted patient data: none of it may reach the report.
PATIENT = {
    "id": 5,
    "doctor": 7,
    "first_name": "Zebulon",
    "last_name": "Quackenbush",
    "social_security_number": "123-45-6789",
    "email": "zeb.quackenbush@example.com",
    "date_of_birth": "1970-01-02",
    "gender": "Male",
    "emergency_contacts": [{"name": "Philomena Quackenbush", "phone": "555-0100"}],
    "notes": "<script>alert('xss')</script>",
}
PHI_VALUES = ["Zebulon", "Quackenbush", "123-45-6789", "zeb.quackenbush", "1970-01-02", "Philomena"]
TARGET = "http://127.0.0.1:8000"


def sample_results() -> list[RequestResult]:
    return [
        RequestResult(
            suite="Patients",
            name="List patients",
            method="GET",
            url=f"{TARGET}/api/patients?last_name=Quackenbush&page_size=2",
            index=0,
            status=200,
            elapsed_ms=42.4,
            checks=[Check("status", True), Check("contract", True)],
            attempts=[Attempt(200, 42.4)],
            operation="GET /api/patients",
            request_headers={"Authorization": "Bearer [REDACTED]", "Accept": "application/json"},
            response_headers={"Content-Type": "application/json"},
            response_body=json.dumps({"results": [PATIENT], "next": None}),
        ),
        RequestResult(
            suite="Patients",
            name="Get patient",
            method="GET",
            url=f"{TARGET}/api/patients/5",
            index=1,
            status=200,
            elapsed_ms=30.0,
            verdict=Verdict.FAILED,
            cause=Cause.CONTRACT,
            checks=[
                Check("status", True),
                Check("contract", False, "'seven' is not of type 'integer'", "$.doctor"),
            ],
            attempts=[Attempt(200, 30.0)],
            operation="GET /api/patients/{id}",
            drift=["$.favourite_colour"],
            request_headers={"Accept": "application/json"},
            response_headers={"Content-Type": "application/json"},
            response_body=json.dumps({**PATIENT, "doctor": "seven"}),
        ),
        RequestResult(
            suite="Appointments",
            name="Create appointment",
            method="POST",
            url=f"{TARGET}/api/appointments",
            index=2,
            status=500,
            elapsed_ms=812.0,
            verdict=Verdict.ERROR,
            cause=Cause.SERVER_FAULT,
            message="The server answered 500 on every attempt.",
            checks=[Check("status", False, "expected 201, got 500")],
            attempts=[
                Attempt(500, 200.0, "retry after 500"),
                Attempt(500, 300.0, "retry after 500"),
                Attempt(500, 312.0),
            ],
            request_headers={"Content-Type": "application/x-www-form-urlencoded"},
            request_body="patient=5&first_name=Zebulon&reason=sore+throat",
            response_headers={"Content-Type": "text/html"},
            response_body="<html><h1>Server Error</h1><script>alert('boom')</script></html>",
        ),
        RequestResult(
            suite="Appointments",
            name="Delete appointment",
            method="DELETE",
            url=f"{TARGET}/api/appointments/9",
            index=3,
            verdict=Verdict.SKIPPED,
            message="Skipped: it needs 'Create appointment', which failed.",
        ),
    ]


def write_report(
    path: Path,
    results: list[RequestResult] | None = None,
    *,
    coverage: dict[str, Any] | None = None,
    **reporter_options: Any,
) -> str:
    results = sample_results() if results is None else results
    reporter = HtmlReporter(path, **reporter_options)
    reporter.start(
        RunInfo(name="DrChrono API", target=TARGET, planned=len(results), source="c.json")
    )
    summary = RunSummary(elapsed_s=1.25, coverage=coverage or {})
    for result in results:
        reporter.result(result)
        summary.add(result)
    reporter.finish(summary)
    return path.read_text(encoding="utf-8")


@dataclass
class Row:
    attrs: dict[str, str]
    cells: list[str] = field(default_factory=list)


class ReportParser(HTMLParser):
    """Collects result rows (their data-* attributes and cell texts), ids, text and script tags."""

    def __init__(self) -> None:
        super().__init__()
        self.rows: list[Row] = []
        self.ids: dict[str, dict[str, str]] = {}
        self.options: list[str] = []
        self.scripts = 0
        self.suites: list[str] = []
        self._cell: list[str] | None = None
        self._in_suite_head = False
        self._in_result = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = {k: v or "" for k, v in attrs}
        if "id" in values:
            self.ids[values["id"]] = values
        if tag == "script":
            self.scripts += 1
        if tag == "option":
            self.options.append(values.get("value", ""))
        classes = values.get("class", "").split()
        if tag == "tr" and "result" in classes:
            self.rows.append(Row(values))
        if tag == "tr" and "suite-head" in classes:
            self._in_suite_head = True
            self.suites.append("")
        if tag == "tr":
            self._in_result = "result" in classes
        if tag == "td" and self._in_result:
            self._cell = []

    def handle_endtag(self, tag: str) -> None:
        if tag == "td" and self._cell is not None:
            self.rows[-1].cells.append(" ".join("".join(self._cell).split()))
            self._cell = None
        if tag == "tr":
            self._in_suite_head = self._in_result = False

    def handle_data(self, data: str) -> None:
        if self._cell is not None:
            self._cell.append(data)
        if self._in_suite_head and data.strip():
            self.suites[-1] = f"{self.suites[-1]} {data.strip()}".strip()


def parse(html: str) -> ReportParser:
    parser = ReportParser()
    parser.feed(html)
    return parser


# --- pure tests ---------------------------------------------------------------------------------


def test_summary_and_rows_grouped_by_suite_in_plan_order(tmp_path: Path) -> None:
    html = write_report(tmp_path / "report.html")
    page = parse(html)

    assert page.suites == [
        "Patients 1 passed, 1 failed",
        "Appointments 0 passed, 1 failed, 1 skipped",
    ]
    assert [row.attrs["data-verdict"] for row in page.rows] == [
        "passed",
        "failed",
        "error",
        "skipped",
    ]
    failed = page.rows[1].cells
    assert failed[2:] == [
        "Get patient",
        "GET /api/patients/5",
        "200",
        "30 ms",
        "0",
        "contract violation",
    ]
    fault = page.rows[2].cells
    assert fault[4] == "500" and fault[6] == "2" and fault[7] == "server fault"
    assert page.ids["outcome"]  # the FAILED banner
    assert ">FAILED</div>" in html
    assert "Stopped early" not in html


def test_details_show_contract_path_attempt_notes_and_drift(tmp_path: Path) -> None:
    html = write_report(tmp_path / "report.html")

    assert (
        '<code class="path">$.doctor</code>: &#39;seven&#39; is not of type &#39;integer&#39;'
        in html
    )
    assert html.count("retry after 500") == 2
    assert "$.favourite_colour" in html
    assert "GET /api/patients/{id}" in html
    assert "The server answered 500 on every attempt." in html
    # JSON bodies are pretty-printed.
    assert "\n  &#34;doctor&#34;: &#34;seven&#34;," in html


def test_markup_in_bodies_and_names_is_shown_as_text(tmp_path: Path) -> None:
    results = sample_results()
    results[0].name = "<img src=x onerror=alert(1)>"
    html = write_report(tmp_path / "report.html", results)

    assert parse(html).scripts == 1  # the report's own script, nothing from the bodies
    assert "<img src=x" not in html
    assert "&lt;img src=x onerror=alert(1)&gt;" in html
    assert "&lt;script&gt;alert(&#39;boom&#39;)&lt;/script&gt;" in html


def test_patient_data_is_masked_everywhere(tmp_path: Path) -> None:
    html = write_report(tmp_path / "report.html")

    for value in PHI_VALUES:
        assert value not in html, value
    assert "sore" not in html  # "reason" in a form body is free text about the patient
    assert "[PHI]" in html
    assert "/api/patients?last_name=[PHI]&amp;page_size=2" in html
    assert "&#34;gender&#34;: &#34;Male&#34;" in html  # not PHI: still readable
    assert "&#34;id&#34;: 5" in html


def test_large_bodies_are_cut_with_a_note(tmp_path: Path) -> None:
    results = sample_results()
    results[0].response_body = json.dumps(
        {"results": [{"id": i, "x": "y" * 100} for i in range(5000)]}
    )
    html = write_report(tmp_path / "report.html", results, body_limit=16 * 1024)

    assert "Truncated: showing the first 16 KiB of" in html
    assert len(html) < 80 * 1024


def test_a_body_nested_too_deeply_is_shown_as_text_not_a_crash(tmp_path: Path) -> None:
    # Was a RecursionError (json.loads or mask_json) that aborted the report.
    results = sample_results()
    results[0].response_body = "[" * 100_000 + "]" * 100_000
    html = write_report(tmp_path / "report.html", results)

    assert "[[[[" in html and "Server Error" in html


def test_passing_bodies_stop_at_the_budget_but_failures_keep_theirs(tmp_path: Path) -> None:
    results = sample_results()
    html = write_report(tmp_path / "report.html", results, body_budget=10)

    assert html.count("budget for passing requests") == 0  # the first passing body fits
    results = [*sample_results(), *sample_results()]
    html = write_report(tmp_path / "report2.html", results, body_budget=10)
    assert html.count("budget for passing requests") == 1  # the second "List patients"
    assert html.count("&#39;seven&#39; is not of type") == 2
    assert html.count("&lt;h1&gt;Server Error&lt;/h1&gt;") == 2  # failures keep their bodies


def test_filter_controls_exist(tmp_path: Path) -> None:
    page = parse(write_report(tmp_path / "report.html"))

    assert page.ids["filter-all"]["aria-pressed"] == "true"
    assert page.ids["filter-failures"]["aria-pressed"] == "false"
    assert "search" in page.ids
    assert page.options == ["", "contract violation", "server fault"]
    assert all(row.attrs["data-search"] for row in page.rows)
    assert "quackenbush" not in " ".join(row.attrs["data-search"] for row in page.rows)


def test_report_needs_no_network(tmp_path: Path) -> None:
    html = write_report(tmp_path / "report.html")

    assert "http://" not in html.replace(TARGET, "")
    assert "https://" not in html
    assert "<link" not in html and "src=" not in html.replace("src=x", "")


def test_old_report_is_kept_until_the_run_finishes(tmp_path: Path) -> None:
    path = tmp_path / "report.html"
    path.write_text("previous report", encoding="utf-8")
    reporter = HtmlReporter(path)
    reporter.start(RunInfo(name="run", target=TARGET, planned=4, source=None))
    summary = RunSummary()
    for result in sample_results():
        reporter.result(result)
        summary.add(result)
        assert path.read_text(encoding="utf-8") == "previous report"
    reporter.finish(summary)

    assert "Get patient" in path.read_text(encoding="utf-8")
    assert [p.name for p in tmp_path.iterdir()] == ["report.html"]


def test_empty_and_partial_runs_say_so(tmp_path: Path) -> None:
    empty = write_report(tmp_path / "empty.html", [])
    assert "No requests ran." in empty

    reporter = HtmlReporter(tmp_path / "bail.html")
    reporter.start(RunInfo(name="run", target=TARGET, planned=10, source=None))
    first = sample_results()[1]
    reporter.result(first)
    summary = RunSummary()
    summary.add(first)
    reporter.finish(summary)
    assert "Stopped early: 1 of 10 planned requests ran." in (tmp_path / "bail.html").read_text()


def test_coverage_section(tmp_path: Path) -> None:
    coverage = {
        "operations": {"covered": 3, "total": 40, "missing": ["GET /api/doctors"]},
        "statuses": {"covered": ["200", "201"], "total": 8},
        "text": "3 of 40 operations",
    }
    html = write_report(tmp_path / "report.html", coverage=coverage)

    assert "Contract coverage" in html
    assert "3 of 40 (8%)" in html
    assert "2 of 8 (25%)" in html
    assert "GET /api/doctors" in html
    assert "Contract coverage" not in write_report(tmp_path / "none.html")


def test_coverage_lists_exercised_operations_and_undocumented_statuses(tmp_path: Path) -> None:
    coverage = {
        "operations": {"exercised": 2, "total": 330},
        "statuses": {"exercised": 3, "total": 2633},
        "by_operation": {
            "GET /api/patients/{id}": {"exercised": [200, 404], "defined": [200, 401, 404]},
            "GET /api/doctors": {"exercised": [200], "defined": [200, 401]},
        },
        "undocumented": [{"operation": "GET /api/doctors", "status": 418}],
    }
    html = write_report(tmp_path / "report.html", coverage=coverage)

    assert "2 of 330 (1%)" in html and "3 of 2633 (0%)" in html
    assert "Exercised operations (2)" in html
    assert html.index("GET /api/doctors</td>") < html.index("GET /api/patients/{id}</td>")
    assert (
        '<span class="seen">200</span> <span class="unseen">401</span> <span class="seen">404</span>'
        in html
    )
    assert "GET /api/doctors → 418" in html


def test_coverage_lines_accept_counts_lists_and_missing() -> None:
    lines = coverage_lines({"operations": {"total": 10, "missing": ["a", "b"]}, "statuses": 7})

    assert [(line.label, line.covered, line.total, line.percent) for line in lines] == [
        ("Operations", 8, 10, 80),
        ("Documented statuses", 7, None, None),
    ]
    assert coverage_lines({"operations": "unknown shape"}) == []


def test_harness_run_html_against_the_sandbox(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``harness run --html`` end to end: the shipped collection against the local sandbox."""
    from harness.cli import main

    monkeypatch.chdir(tmp_path)
    report, summary = tmp_path / "report.html", tmp_path / "summary.json"
    code = main(
        [
            "run",
            "--html",
            str(report),
            "--json",
            str(summary),
            "--token-store",
            str(tmp_path / "t.json"),
        ]
    )

    assert code in (0, 1)
    html = report.read_text(encoding="utf-8")
    expected = json.loads(summary.read_text(encoding="utf-8"))["results"]
    rows = parse(html).rows
    assert [row.cells[2] for row in rows] == [result["name"] for result in expected]
    assert [row.attrs["data-verdict"] for row in rows] == [r["verdict"] for r in expected]
    assert "&#34;id&#34;:" in html  # bodies were kept and pretty-printed
    assert "&#34;first_name&#34;: &#34;[PHI]&#34;" in html
    for key in ("first_name", "last_name", "date_of_birth", "email", "social_security_number"):
        shown = set(re.findall(f"&#34;{key}&#34;: (&#34;[^&]*&#34;|null)", html))
        assert shown <= {"&#34;[PHI]&#34;", "&#34;&#34;", "null"}, (key, shown)


# --- masking, unit by unit --------------------------------------------------------------------


def test_mask_json_keeps_shape_and_applies_parent_rules() -> None:
    fields = load_phi_fields()
    masked = mask_json(
        {
            "results": [PATIENT],
            "custom_demographics": [{"field_type": 3, "value": "Lives with Zebulon"}],
            "value": "not PHI outside custom_demographics",
            "access_token": "abc.def",
        },
        fields,
    )

    patient = masked["results"][0]
    assert patient["first_name"] == "[PHI]" and patient["id"] == 5
    assert patient["emergency_contacts"] == [{"name": "[PHI]", "phone": "[PHI]"}]
    assert masked["custom_demographics"] == [{"field_type": 3, "value": "[PHI]"}]
    assert masked["value"] == "not PHI outside custom_demographics"
    assert masked["access_token"] == "[REDACTED]"


def test_mask_text_handles_json_like_and_cut_bodies() -> None:
    fields = load_phi_fields()
    cut = '{"results": [{"id": 1, "last_name": "Quacken'  # cut mid-value by truncation

    assert mask_text(cut, fields) == '{"results": [{"id": 1, "last_name": "[PHI]"'
    assert mask_text("code=abc123&state=x&email=a%40b.c", fields) == (
        "code=[REDACTED]&state=x&email=[PHI]"
    )
    assert mask_url(f"{TARGET}/api/patients?first_name=Zeb&doctor=7", fields) == (
        f"{TARGET}/api/patients?first_name=[PHI]&doctor=7"
    )
    assert mask_url(f"{TARGET}/api/patients", fields) == f"{TARGET}/api/patients"


def test_render_body_truncates_after_masking() -> None:
    fields = load_phi_fields()
    body = render_body(
        json.dumps({"last_name": "Quackenbush" * 10, "pad": "x" * 500}), fields, limit=100
    )

    assert body is not None
    assert "Quackenbush" not in body["text"]
    assert len(body["text"]) == 100 and body["note"].startswith("Truncated")
    assert render_body(None, fields, limit=100) is None


# --- browser tests ------------------------------------------------------------------------------

BROWSER_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--window-size=1280,1600",
]
needs_chromium = pytest.mark.skipif(
    not CHROMIUM.exists(),
    reason="needs /usr/bin/chromium (Debian packages chromium and chromium-driver)",
)


def run_chromium(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[bytes]:
    profile = tmp_path / "chromium-profile"
    return subprocess.run(
        [str(CHROMIUM), *BROWSER_FLAGS, f"--user-data-dir={profile}", *args],
        capture_output=True,
        timeout=90,
        check=True,
    )


def png_pixels(data: bytes, rows: int) -> tuple[int, int, list[bytes]]:
    """Width, height and the first ``rows`` scanlines (RGB or RGBA, 8 bit) of a PNG."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
    width, height, depth, colour = struct.unpack(">IIBB", data[16:26])
    assert depth == 8 and colour in (2, 6)
    channels = 4 if colour == 6 else 3
    idat, pos = b"", 8
    while pos < len(data):
        (length,) = struct.unpack(">I", data[pos : pos + 4])
        kind = data[pos + 4 : pos + 8]
        if kind == b"IDAT":
            idat += data[pos + 8 : pos + 8 + length]
        pos += 12 + length
    raw = zlib.decompressobj().decompress(idat, rows * (width * channels + 1))
    stride = width * channels
    lines: list[bytes] = []
    previous = bytearray(stride)
    for y in range(min(rows, height)):
        kind, line = (
            raw[y * (stride + 1)],
            bytearray(raw[y * (stride + 1) + 1 : (y + 1) * (stride + 1)]),
        )
        for x in range(stride):
            left = line[x - channels] if x >= channels else 0
            up = previous[x]
            corner = previous[x - channels] if x >= channels else 0
            if kind == 1:
                line[x] = (line[x] + left) & 0xFF
            elif kind == 2:
                line[x] = (line[x] + up) & 0xFF
            elif kind == 3:
                line[x] = (line[x] + (left + up) // 2) & 0xFF
            elif kind == 4:
                p = left + up - corner
                pa, pb, pc = abs(p - left), abs(p - up), abs(p - corner)
                best = left if pa <= pb and pa <= pc else up if pb <= pc else corner
                line[x] = (line[x] + best) & 0xFF
        lines.append(bytes(line))
        previous = line
    return width, height, [line[i : i + 3] for line in lines for i in range(0, stride, channels)]


@pytest.mark.browser
@needs_chromium
def test_screenshot_shows_the_red_failed_banner(tmp_path: Path) -> None:
    report = tmp_path / "report.html"
    write_report(report)
    shot = tmp_path / "report.png"

    run_chromium(tmp_path, f"--screenshot={shot}", report.as_uri())

    data = shot.read_bytes()
    width, height, top = png_pixels(data, rows=120)
    assert (width, height) == (1280, 1600)
    assert len(data) > 30_000  # a rendered page, not a blank one
    banner_red = sum(1 for px in top if abs(px[0] - 0xCF) < 24 and px[1] < 80 and px[2] < 90)
    assert banner_red > 1000, "the red FAILED banner is not on screen"
    _keep_screenshot(shot)


@pytest.mark.browser
@needs_chromium
def test_failures_link_opens_with_passing_rows_hidden(tmp_path: Path) -> None:
    report = tmp_path / "report.html"
    write_report(report)

    dom = run_chromium(
        tmp_path, "--dump-dom", "--virtual-time-budget=2000", report.as_uri() + "#failures"
    ).stdout.decode()

    page = parse(dom)
    hidden = {row.cells[2]: "hidden" in row.attrs for row in page.rows}
    assert hidden == {
        "List patients": True,
        "Get patient": False,
        "Create appointment": False,
        "Delete appointment": True,
    }
    assert page.ids["filter-failures"]["aria-pressed"] == "true"
    assert "2 of 4 shown" in dom


class WebDriver:
    """Just enough of the W3C WebDriver protocol, spoken to chromedriver over HTTP."""

    ELEMENT = "element-6066-11e4-a52e-4f735466cecf"

    def __init__(self, client: httpx.Client, session: str) -> None:
        self.client = client
        self.session = session

    def call(self, method: str, path: str, body: dict[str, Any] | None = None) -> Any:
        response = self.client.request(method, f"/session/{self.session}{path}", json=body)
        payload = response.json()
        assert response.status_code == 200, payload
        return payload["value"]

    def open(self, url: str) -> None:
        self.call("POST", "/url", {"url": url})

    def find(self, css: str) -> str:
        return str(
            self.call("POST", "/element", {"using": "css selector", "value": css})[self.ELEMENT]
        )

    def find_all(self, css: str) -> list[str]:
        found = self.call("POST", "/elements", {"using": "css selector", "value": css})
        return [str(element[self.ELEMENT]) for element in found]

    def click(self, css: str) -> None:
        self.call("POST", f"/element/{self.find(css)}/click", {})

    def type(self, css: str, text: str) -> None:
        self.call("POST", f"/element/{self.find(css)}/value", {"text": text})

    def text(self, css: str) -> str:
        return str(self.call("GET", f"/element/{self.find(css)}/text"))

    def visible_rows(self) -> list[str]:
        """Names of the result rows a person can see."""
        names = []
        for row in self.find_all("tr.result"):
            if self.call("GET", f"/element/{row}/displayed"):
                cell = self.call(
                    "POST",
                    f"/element/{row}/element",
                    {"using": "css selector", "value": "td:nth-child(3)"},
                )[self.ELEMENT]
                names.append(str(self.call("GET", f"/element/{cell}/text")))
        return names

    def screenshot(self) -> bytes:
        return base64.b64decode(self.call("GET", "/screenshot"))


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def browser(tmp_path: Path) -> Iterator[WebDriver]:
    if not CHROMEDRIVER.exists():
        pytest.skip("needs /usr/bin/chromedriver (Debian package chromium-driver)")
    port = _free_port()
    process = subprocess.Popen(
        [str(CHROMEDRIVER), f"--port={port}", "--allowed-ips=127.0.0.1"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    client = httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=60)
    try:
        deadline = time.monotonic() + 20
        while True:
            try:
                if client.get("/status").json()["value"]["ready"]:
                    break
            except httpx.TransportError:
                pass
            assert time.monotonic() < deadline, "chromedriver did not start"
            time.sleep(0.1)
        options = {
            "binary": str(CHROMIUM),
            "args": [*BROWSER_FLAGS, f"--user-data-dir={tmp_path / 'driver-profile'}"],
        }
        created = client.post(
            "/session",
            json={
                "capabilities": {
                    "alwaysMatch": {"browserName": "chrome", "goog:chromeOptions": options}
                }
            },
        )
        assert created.status_code == 200, created.text
        driver = WebDriver(client, created.json()["value"]["sessionId"])
        try:
            yield driver
        finally:
            client.delete(f"/session/{driver.session}")
    finally:
        client.close()
        process.terminate()
        process.wait(timeout=10)


ALL_ROWS = ["List patients", "Get patient", "Create appointment", "Delete appointment"]


@pytest.mark.browser
@needs_chromium
def test_person_filters_expands_and_searches(browser: WebDriver, tmp_path: Path) -> None:
    report = tmp_path / "report.html"
    write_report(report)
    browser.open(report.as_uri())

    assert browser.visible_rows() == ALL_ROWS
    assert browser.text("#shown-count") == "4 of 4 shown"

    browser.click("#filter-failures")
    assert browser.visible_rows() == ["Get patient", "Create appointment"]
    assert browser.text("#shown-count") == "2 of 4 shown"

    browser.click("#r2 button.toggle")  # open the contract failure
    details = browser.text("#d2")
    assert "contract at $.doctor: 'seven' is not of type 'integer'" in details
    assert "[PHI]" in details and "Quackenbush" not in details

    browser.type("#search", "appointment")
    assert browser.visible_rows() == ["Create appointment"]

    browser.click("#filter-all")
    assert browser.visible_rows() == ["Create appointment", "Delete appointment"]

    browser.click('#filter-cause option[value="server fault"]')
    assert browser.visible_rows() == ["Create appointment"]

    shot = tmp_path / "filtered.png"
    shot.write_bytes(browser.screenshot())
    width, _, _ = png_pixels(shot.read_bytes(), rows=1)
    assert width == 1280
    _keep_screenshot(shot)


def _keep_screenshot(shot: Path) -> None:
    """Copy screenshots to $HTML_REPORT_SCREENSHOTS (a directory) for a person to look at."""
    target = os.environ.get("HTML_REPORT_SCREENSHOTS")
    if target:
        Path(target).mkdir(parents=True, exist_ok=True)
        shutil.copy(shot, Path(target) / shot.name)
