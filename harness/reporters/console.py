"""Terminal output: a line per request as it finishes, then a summary table (rich).

On a terminal a live progress bar sits under the lines; when output is not a terminal or CI is set,
only the plain lines and the summary are printed, so CI logs stay readable.

When output is not a terminal (a pipe, a CI log, a file), the per-request lines skip rich: they are
the same characters rich would print there, joined as plain strings and held here until a new
suite starts, half a second has passed, or the run finishes, then written and flushed at once. The
reporter buffers itself because the stream may not (``PYTHONUNBUFFERED=1`` is common in CI). Rendering and flushing
each line through rich was the largest per-request cost of a run (issue #13).
"""

from __future__ import annotations

import os
import sys
import time
from typing import Literal, TextIO

from rich.console import Console
from rich.control import strip_control_codes
from rich.markup import escape
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
)
from rich.table import Table
from rich.text import Text

from harness.masking import (
    KnownPhi,
    KnownValues,
    default_fields,
    mask_body,
    mask_headers,
    mask_message,
    mask_url,
)
from harness.report_text import report_text
from harness.results import FilledPlaceholder, RequestResult, RunInfo, RunSummary, Verdict

_MARK = {
    Verdict.PASSED: ("✓", "green"),
    Verdict.FAILED: ("✗", "red"),
    Verdict.ERROR: ("!", "red"),
    Verdict.SKIPPED: ("-", "yellow"),
}
# Buffered plain lines reach the stream at least this often, so a slow run still shows progress.
FLUSH_EVERY_S = 0.5
# How much of a body the console shows: with -v, and for a failed request without it.
VERBOSE_BODY_CHARS = 2000
COMPACT_BODY_CHARS = 300

# One output line as (text, rich style) pieces: rich styles them on a terminal, and elsewhere the
# texts are joined as they are. Names and messages are data ("[REDACTED]", JSON lists), so they
# are never parsed as rich markup either way.
Line = list[tuple[str, str]]


class ConsoleReporter:
    def __init__(
        self,
        stream: TextIO | None = None,
        *,
        verbose: bool = False,
        color: Literal["on", "off", "auto"] = "auto",
    ) -> None:
        target = stream or sys.stdout
        # --color on styles even a pipe or a CI log; off never styles; auto styles a terminal
        # unless NO_COLOR is set (rich reads NO_COLOR itself).
        self.console = Console(
            file=target,
            highlight=False,
            soft_wrap=True,
            force_terminal=True if color == "on" else None,
            no_color=True if color == "off" else None,
            color_system=None if color == "off" else "auto",
        )
        self.verbose = verbose
        interactive = _is_tty(target) and not os.environ.get("CI")
        self._progress: Progress | None = (
            Progress(
                TextColumn("{task.description}"),
                BarColumn(),
                MofNCompleteColumn(),
                TimeElapsedColumn(),
                console=self.console,
                transient=True,
            )
            if interactive
            else None
        )
        self._task: TaskID | None = None
        # Not a terminal: rich would print no styles, so the lines are written as plain text.
        self._plain: TextIO | None = None if self.console.is_terminal else target
        self._pending: list[str] = []  # plain lines not yet written
        self._flushed_at = time.monotonic()
        self._suite: str | None = None
        self._failures: list[RequestResult] = []
        # Patient values seen in the run's bodies: masked where a later body quotes them.
        self._known = KnownValues()

    def start(self, info: RunInfo) -> None:
        self.console.print(f"[bold]{_shown(info.name)}[/] against [cyan]{_shown(info.target)}[/]")
        if self._progress is not None:
            self._progress.start()
            self._task = self._progress.add_task("running", total=info.planned)

    def result(self, result: RequestResult) -> None:
        lines: list[Line] = []
        new_suite = result.suite != self._suite
        if new_suite:
            self._suite = result.suite
            lines.append([(report_text(result.suite), "bold")])
        known: KnownPhi = None
        if self.verbose or result.verdict.is_bad:  # its bodies are shown: learn, then mask
            self._known.learn(
                default_fields(),
                request_body=result.request_body,
                response_body=result.response_body,
                url=result.url,
            )
            known = self._known.pattern()
        lines.extend(_result_lines(result, verbose=self.verbose, known=known))
        if result.verdict in (Verdict.FAILED, Verdict.ERROR):
            self._failures.append(_compact(result))
        if self._plain is not None:
            self._write_plain(lines, flush=new_suite)
        else:
            for line in lines:
                self.console.print(Text.assemble(*line))
        if self._progress is not None and self._task is not None:
            self._progress.advance(self._task)

    def _write_plain(self, lines: list[Line], *, flush: bool) -> None:
        assert self._plain is not None
        text = "".join("".join(piece for piece, _ in line) + "\n" for line in lines)
        # What rich does to text before printing it: control codes dropped, tabs expanded.
        text = strip_control_codes(text)
        if "\t" in text:
            text = "\n".join(line.expandtabs(8) for line in text.split("\n"))
        self._pending.append(text)
        if flush or time.monotonic() - self._flushed_at >= FLUSH_EVERY_S:
            self._flush_plain()

    def _flush_plain(self) -> None:
        if self._plain is not None and self._pending:
            self._plain.write("".join(self._pending))
            self._plain.flush()
            self._pending.clear()
        self._flushed_at = time.monotonic()

    def finish(self, summary: RunSummary) -> None:
        self._flush_plain()  # the held request lines go before the summary
        if self._progress is not None:
            self._progress.stop()
        table = Table(title="Summary", show_edge=False)
        for column in ("requests", "passed", "failed", "errors", "skipped", "time"):
            table.add_column(column, justify="right")
        table.add_row(
            str(summary.total),
            f"[green]{summary.passed}[/]",
            f"[red]{summary.failed}[/]" if summary.failed else "0",
            f"[red]{summary.errors}[/]" if summary.errors else "0",
            str(summary.skipped),
            f"{summary.elapsed_s:.2f}s",
        )
        self.console.print(table)
        coverage = summary.coverage.get("text") if summary.coverage else None
        if coverage:
            # The per-operation table is for -v; everyone gets its closing "Covered ..." line.
            shown = coverage if self.verbose else coverage.splitlines()[-1]
            self.console.print(shown, markup=False)
        if self._failures:
            self.console.print("[bold red]Failures[/]")
            for failed in self._failures:
                self.console.print(
                    report_text(f"  {failed.suite}/{failed.name}: {failed.cause.value}"),
                    markup=False,
                )
                for text in _reasons(failed)[:3]:
                    self.console.print(report_text(f"      {text}"), markup=False)
        if summary.not_run:
            self.console.print(f"[bold yellow]Not run ({len(summary.not_run)})[/]")
            for entry in summary.not_run:
                self.console.print(report_text(f"  {entry}"), markup=False)
        verdict = "[bold green]PASSED[/]" if summary.ok else "[bold red]FAILED[/]"
        if len(summary.not_run) > (summary.timed_out is not None):  # more than the --timeout note
            verdict += " [yellow](the scripts under 'Not run' were not executed)[/]"
        self.console.print(verdict)


def _is_tty(stream: TextIO) -> bool:
    try:
        return stream.isatty()
    except (AttributeError, ValueError):  # a closed or odd stream: not a terminal
        return False


def _shown(text: str) -> str:
    """Names and messages are data: never rich markup, never terminal control sequences."""
    return escape(report_text(text))


def _result_lines(result: RequestResult, *, verbose: bool, known: KnownPhi = None) -> list[Line]:
    """The request's line, then its reasons (failed, error, skipped) and, for -v, its drift and
    its scripts' console."""
    mark, mark_style = _MARK[result.verdict]
    status = "" if result.status is None else str(result.status)
    line: Line = [
        ("  ", ""),
        (mark, mark_style),
        (f" {report_text(result.name)}  ", ""),
        (f"{result.method} {status} {result.elapsed_ms:.0f} ms", "dim"),
    ]
    retries = [a.note for a in result.attempts if a.note]
    if retries:
        line += [("  ", ""), (report_text(f"({'; '.join(retries)})"), "yellow")]
    lines = [line]
    if result.verdict in (Verdict.FAILED, Verdict.ERROR, Verdict.SKIPPED):
        lines += [[("      ", ""), (report_text(text), "red")] for text in _reasons(result)]
    if verbose and result.drift:
        lines.append(
            [("      ", ""), (report_text(f"drift: {', '.join(result.drift[:5])}"), "yellow")]
        )
    if verbose:  # what --fill-placeholders put in, then the scripts' console output (masked)
        lines += [
            [("      ", ""), (report_text(f"filled: {_fill_text(fill)}"), "cyan")]
            for fill in result.filled
        ]
        lines += [
            [("      ", ""), (report_text(f"console: {text}"), "dim")] for text in result.console
        ]
    if verbose or result.verdict.is_bad:
        lines += _exchange_lines(result, compact=not verbose, known=known)
    return lines


def _exchange_lines(result: RequestResult, *, compact: bool, known: KnownPhi) -> list[Line]:
    """What was sent and received, as Newman's --verbose shows it, masked by harness.masking:
    every header and the body with -v; for a failed request without -v, the request line,
    status and the start of both bodies. Secrets arrive redacted; PHI is masked here."""
    fields = default_fields()
    limit = COMPACT_BODY_CHARS if compact else VERBOSE_BODY_CHARS
    lines: list[Line] = [
        [
            ("      → ", "dim"),
            (report_text(f"{result.method} {mask_url(result.url, fields)}"), "dim"),
        ]
    ]
    if result.request_headers is None and result.response_headers is None:
        return lines  # not sent, or no response: the reasons above say why

    def body(text: str | None) -> None:
        if not text:
            return
        shown = mask_body(text, fields, known)
        if len(shown) > limit:
            shown = f"{shown[:limit]}… ({len(shown)} characters)"
        lines.append([("        ", ""), (report_text(shown), "dim")])

    def headers(pairs: dict[str, str] | None) -> None:
        if not compact:
            for name, value in mask_headers(pairs, fields) or []:
                lines.append([("        ", ""), (report_text(f"{name}: {value}"), "dim")])

    headers(result.request_headers)
    body(result.request_body)
    status = "" if result.status is None else str(result.status)
    lines.append([("      ← ", "dim"), (f"{status} {result.elapsed_ms:.0f} ms", "dim")])
    headers(result.response_headers)
    body(result.response_body)
    return lines


def _fill_text(fill: FilledPlaceholder) -> str:
    """One ``--fill-placeholders`` choice (``Fill.to_json``): "query doctor <integer> = 5 (why)"."""
    shown = "dropped" if fill["dropped"] else f"= {mask_message(str(fill['value']))}"
    return f"{fill['location']} {fill['name']} {fill['placeholder']} {shown} ({fill['source']})"


def _reasons(result: RequestResult) -> list[str]:
    reasons = [mask_message(result.message)] if result.message else []
    for check in result.failed_checks:
        where = f" at {check.json_path}" if check.json_path else ""
        reasons.append(f"{check.name}{where}: {mask_message(check.message)}")
    return reasons


def _compact(result: RequestResult) -> RequestResult:
    """Keep only what the failure list shows (no bodies), so memory stays small."""
    return RequestResult(
        suite=result.suite,
        name=result.name,
        method=result.method,
        url=result.url,
        verdict=result.verdict,
        cause=result.cause,
        checks=result.failed_checks[:5],
        message=result.message,
    )
