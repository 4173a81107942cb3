"""Terminal output: a line per request as it finishes, then a summary table (rich).

On a terminal a live progress bar sits under the lines; when output is not a terminal or CI is set,
only the plain lines and the summary are printed, so CI logs stay readable.
"""

from __future__ import annotations

import os
import sys
from typing import TextIO

from rich.console import Console
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

from harness.reporters.text import report_text
from harness.results import RequestResult, RunSummary, Verdict

_MARK = {
    Verdict.PASSED: "[green]✓[/]",
    Verdict.FAILED: "[red]✗[/]",
    Verdict.ERROR: "[red]![/]",
    Verdict.SKIPPED: "[yellow]-[/]",
}


class ConsoleReporter:
    def __init__(self, stream: TextIO | None = None, *, verbose: bool = False) -> None:
        self.console = Console(file=stream or sys.stdout, highlight=False, soft_wrap=True)
        self.verbose = verbose
        interactive = self.console.is_terminal and not os.environ.get("CI")
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
        self._suite: str | None = None
        self._failures: list[RequestResult] = []
        self._slowest: list[tuple[float, str]] = []

    def start(self, info: object) -> None:
        name = getattr(info, "name", "run")
        target = getattr(info, "target", "")
        self.console.print(f"[bold]{_shown(str(name))}[/] against [cyan]{_shown(str(target))}[/]")
        if self._progress is not None:
            self._progress.start()
            self._task = self._progress.add_task("running", total=getattr(info, "planned", None))

    def result(self, result: RequestResult) -> None:
        if result.suite != self._suite:
            self._suite = result.suite
            self.console.print(f"[bold]{_shown(result.suite)}[/]")
        status = "" if result.status is None else str(result.status)
        line = (
            f"  {_MARK[result.verdict]} {_shown(result.name)}  "
            f"[dim]{result.method} {status} {result.elapsed_ms:.0f} ms[/]"
        )
        retries = [a.note for a in result.attempts if a.note]
        if retries:
            line += f"  [yellow]({_shown('; '.join(retries))})[/]"
        self.console.print(line)
        if result.verdict in (Verdict.FAILED, Verdict.ERROR, Verdict.SKIPPED):
            # Messages and names are data ("[REDACTED]", JSON lists): never rich markup.
            for text in _reasons(result):
                self.console.print(f"      [red]{_shown(text)}[/]")
            if result.verdict is not Verdict.SKIPPED:
                self._failures.append(_compact(result))
        if self.verbose and result.drift:
            self.console.print(f"      [yellow]drift: {_shown(', '.join(result.drift[:5]))}[/]")
        if self.verbose:  # the scripts' console output (already masked)
            for text in result.console:
                self.console.print(f"      [dim]console: {_shown(text)}[/]")
        if self._progress is not None and self._task is not None:
            self._progress.advance(self._task)

    def finish(self, summary: RunSummary) -> None:
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
        if summary.not_run:
            verdict += " [yellow](the scripts under 'Not run' were not executed)[/]"
        self.console.print(verdict)


def _shown(text: str) -> str:
    """Names and messages are data: never rich markup, never terminal control sequences."""
    return escape(report_text(text))


def _reasons(result: RequestResult) -> list[str]:
    reasons = [result.message] if result.message else []
    for check in result.failed_checks:
        where = f" at {check.json_path}" if check.json_path else ""
        reasons.append(f"{check.name}{where}: {check.message}")
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
