"""JUnit XML that Jenkins and GitLab display well: a testsuite per folder or scenario.

Results arrive in plan order, so a suite's test cases are contiguous: only the current suite is
held in memory and finished suites are streamed to a temporary file, which becomes the report
(atomically) when the run ends.
"""

from __future__ import annotations

import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import IO
from xml.sax import saxutils

from harness.atomicfile import atomic_writer
from harness.masking import mask_message, mask_url
from harness.naming import slug
from harness.report_text import report_text
from harness.results import NotRun, RequestResult, RunInfo, RunSummary, Verdict


class JUnitReporter:
    def __init__(self, path: Path, *, name: str = "drchrono-harness") -> None:
        self.path = path
        self.name = name
        self._body: IO[str] = tempfile.TemporaryFile("w+", encoding="utf-8")
        self._suite: str | None = None
        self._suite_time = 0.0
        self._cases: list[str] = []
        self._counts = [0, 0, 0, 0]  # tests, failures, errors, skipped

    def start(self, info: RunInfo) -> None:
        self.name = info.name

    def result(self, result: RequestResult) -> None:
        if result.suite != self._suite:
            self._close_suite()
            self._suite = result.suite
        self._counts[0] += 1
        seconds = result.elapsed_ms / 1000
        self._suite_time += seconds
        # Jenkins reads dots in classname as packages: collection slug, then the folder path.
        classname = _xml_attr(".".join([_slug(self.name), *map(_slug, result.suite.split("/"))]))
        case = f'    <testcase classname={classname} name={_xml_attr(result.name)} time="{seconds:.3f}"'
        inner = ""
        if result.verdict is Verdict.FAILED:
            self._counts[1] += 1
            inner = _element("failure", result)
        elif result.verdict is Verdict.ERROR:
            self._counts[2] += 1
            inner = _element("error", result)
        elif result.verdict is Verdict.SKIPPED:
            self._counts[3] += 1
            inner = f"      <skipped message={_xml_attr(mask_message(result.message))}/>\n"
        attempts = [a for a in result.attempts if a.note]
        if attempts:
            lines = "\n".join(
                f"attempt {i + 1}: status {a.status} {a.note}"
                for i, a in enumerate(result.attempts)
            )
            inner += f"      <system-out>{_xml_text(lines)}</system-out>\n"
        self._cases.append(case + (">\n" + inner + "    </testcase>\n" if inner else "/>\n"))

    def _close_suite(self) -> None:
        if self._suite is None:
            return
        tests = len(self._cases)
        failures = sum(1 for c in self._cases if "<failure" in c)
        errors = sum(1 for c in self._cases if "<error" in c)
        skipped = sum(1 for c in self._cases if "<skipped" in c)
        self._body.write(
            f'  <testsuite name={_xml_attr(self._suite)} tests="{tests}" failures="{failures}" '
            f'errors="{errors}" skipped="{skipped}" time="{self._suite_time:.3f}">\n'
        )
        self._body.writelines(self._cases)
        self._body.write("  </testsuite>\n")
        self._cases = []
        self._suite_time = 0.0

    def finish(self, summary: RunSummary) -> None:
        self._close_suite()
        self._not_run_suite(summary.not_run)
        if summary.fatal:
            self._fatal_suite(summary.fatal)
        tests, failures, errors, skipped = self._counts
        self._body.seek(0)
        with atomic_writer(self.path) as out:
            out.write('<?xml version="1.0" encoding="UTF-8"?>\n')
            out.write(
                f'<testsuites name={_xml_attr(self.name)} tests="{tests}" failures="{failures}" '
                f'errors="{errors}" skipped="{skipped}" time="{summary.elapsed_s:.3f}">\n'
            )
            while chunk := self._body.read(1 << 16):
                out.write(chunk)
            out.write("</testsuites>\n")
        self._body.close()

    def _fatal_suite(self, fatal: str) -> None:
        """An error test case saying why the run stopped (bad credentials, bad input), so that a
        CI publishing step finds a report that fails, not a missing or empty one."""
        classname = _xml_attr(f"{_slug(self.name)}.setup")
        message = mask_message(fatal)
        self._body.write(
            '  <testsuite name="set-up" tests="1" failures="0" errors="1" skipped="0" '
            'time="0.000">\n'
            f'    <testcase classname={classname} name="run set-up" time="0.000">\n'
            f'      <error message={_xml_attr(message)} type="fatal">{_xml_text(message)}</error>\n'
            "    </testcase>\n  </testsuite>\n"
        )
        self._counts[0] += 1
        self._counts[2] += 1

    def _not_run_suite(self, not_run: Sequence[NotRun]) -> None:
        """A skipped test case per script the harness did not execute, so CI shows them."""
        if not not_run:
            return
        classname = _xml_attr(f"{_slug(self.name)}.not_run")
        self._body.write(
            f'  <testsuite name="not run" tests="{len(not_run)}" failures="0" errors="0" '
            f'skipped="{len(not_run)}" time="0.000">\n'
        )
        for entry in not_run:
            self._body.write(
                f'    <testcase classname={classname} name={_xml_attr(entry.where)} time="0.000">\n'
                f"      <skipped message={_xml_attr(entry.what)}/>\n    </testcase>\n"
            )
        self._body.write("  </testsuite>\n")
        self._counts[0] += len(not_run)
        self._counts[3] += len(not_run)


def _xml_text(text: str) -> str:
    """Element text: XML-escaped, and without the characters XML cannot hold at all."""
    return saxutils.escape(report_text(text))


def _xml_attr(text: str) -> str:
    """An attribute value, quoted, with the same care as :func:`_xml_text`."""
    return saxutils.quoteattr(report_text(text))


def _slug(text: str) -> str:
    return slug(text, sep="_", empty="root")


def _element(tag: str, result: RequestResult) -> str:
    reasons = [mask_message(result.message)] if result.message else []
    for check in result.failed_checks:
        where = f" at {check.json_path}" if check.json_path else ""
        reasons.append(f"{check.name}{where}: {mask_message(check.message)}")
    first = reasons[0] if reasons else result.cause.value
    detail = f"{result.method} {mask_url(result.url)} -> {result.status}\n" + "\n".join(reasons)
    return (
        f"      <{tag} message={_xml_attr(first)} type={_xml_attr(result.cause.value)}>"
        f"{_xml_text(detail)}</{tag}>\n"
    )
