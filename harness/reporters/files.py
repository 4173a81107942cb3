"""The report files a run was asked for (``--junit``, ``--json``, ``--html``), written even when
the run stops on bad input or set-up (exit 2) before it could finish them."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path

from harness.errors import HarnessError
from harness.results import Reporter, RequestResult, RunInfo, RunSummary


class FileReport:
    """A report file's reporter (the ``Reporter`` protocol), that knows how far the run got, so
    that a run stopped by a :class:`HarnessError` can still finish the file, saying why."""

    def __init__(self, reporter: Reporter) -> None:
        self.reporter = reporter
        self._seen = RunSummary()  # the results it received, should the run stop before finish
        self._started = False
        self._finished = False

    def start(self, info: RunInfo) -> None:
        self._started = True
        self.reporter.start(info)

    def result(self, result: RequestResult) -> None:
        self._seen.add(result)
        self.reporter.result(result)

    def finish(self, summary: RunSummary) -> None:
        self._finished = True
        self.reporter.finish(summary)

    def finish_stopped(self, info: RunInfo, why: str) -> None:
        """Finish a report the run did not: the results so far, and ``why`` as its fatal error
        (a JUnit error test case, the JSON ``fatal`` field, a line in the HTML page)."""
        if self._finished:
            return
        if not self._started:
            self.start(info)
        self._seen.fatal = why
        self.finish(self._seen)


def file_reports(*, junit: Path | None, json: Path | None, html: Path | None) -> list[FileReport]:
    """One report per file asked for, in a fixed order (JUnit, JSON, HTML)."""
    from harness.reporters.json_report import JsonReporter
    from harness.reporters.junit import JUnitReporter

    reports: list[FileReport] = []
    if junit is not None:
        reports.append(FileReport(JUnitReporter(junit)))
    if json is not None:
        reports.append(FileReport(JsonReporter(json)))
    if html is not None:
        from harness.reporters.html import HtmlReporter  # Jinja2: only when asked for

        reports.append(FileReport(HtmlReporter(html)))
    return reports


@contextlib.contextmanager
def reporting_setup_failures(reports: list[FileReport], source: str | None) -> Iterator[None]:
    """Within the block, a :class:`HarnessError` (exit 2) still finishes every report, so a CI
    step that publishes them shows the failure instead of finding no file."""
    try:
        yield
    except HarnessError as exc:
        info = RunInfo(name="drchrono-harness", target="not started", planned=0, source=source)
        for report in reports:
            report.finish_stopped(info, str(exc))
        raise
