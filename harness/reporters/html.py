"""A self-contained HTML report a person reads in a browser: summary, grouped results, details.

Each result is reduced to a small, masked row (PHI values in bodies and query strings replaced,
bodies pretty-printed and truncated) and streamed to a temporary file as it arrives, so memory does
not grow with the run. At the end the page is rendered from a Jinja2 template (autoescaped) straight
into the report file, which replaces any old report atomically. CSS and JS are inline: the file
opens anywhere, with no network.
"""

from __future__ import annotations

import dataclasses
import itertools
import json
import tempfile
from collections import Counter
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any
from urllib.parse import urlsplit

import jinja2

from harness.atomicfile import atomic_writer
from harness.masking import (
    PHI_MASK,
    KnownPhi,
    KnownValues,
    mask_headers,
    mask_json,
    mask_message,
    mask_text,
    mask_url,
    parse_json_body,
)
from harness.phi_fields import SensitiveFields, load_phi_fields
from harness.report_text import report_text
from harness.results import Cause, RequestResult, RunInfo, RunSummary, Verdict

__all__ = ["PHI_MASK", "HtmlReporter", "mask_json", "mask_text", "mask_url", "render_body"]
DEFAULT_BODY_LIMIT = 64 * 1024  # characters of a body shown; the rest is cut with a note
# Bodies of passing requests shown in one report, in characters: past this a long run's report
# would be too big to open, so later passing requests show headers only. Failures always keep theirs.
DEFAULT_BODY_BUDGET = 32 * 1024 * 1024
_BUDGET_NOTE = "Body not kept: the report's budget for passing requests' bodies is spent."
_MAX_CHECKS = 100  # per result; a broken schema can yield thousands of violations
_MAX_DRIFT = 50
_MAX_CONSOLE = 50  # scripts' console lines shown per request
_MAX_MISSING = 200  # uncovered operations listed in the coverage section

_TEMPLATES = jinja2.Environment(
    loader=jinja2.PackageLoader("harness.reporters", "templates"),
    autoescape=True,
    undefined=jinja2.StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
    # Every {{ value }} from the run; macro output (Markup) is built from such values already.
    finalize=lambda value: report_text(value) if type(value) is str else value,
)


class HtmlReporter:
    """The reporter protocol: ``start(info)``, ``result(r)`` per request in plan order, ``finish(summary)``."""

    def __init__(
        self,
        path: Path,
        *,
        fields: SensitiveFields | None = None,
        body_limit: int = DEFAULT_BODY_LIMIT,
        body_budget: int = DEFAULT_BODY_BUDGET,
    ) -> None:
        self.path = path
        self.fields = fields if fields is not None else load_phi_fields()
        self.body_limit = body_limit
        self.body_budget = body_budget
        self._body_chars = 0  # shown so far for passing requests
        self._rows: IO[str] = tempfile.TemporaryFile("w+", encoding="utf-8")
        self._info: dict[str, Any] = {}
        # Per suite group (consecutive results of one suite): verdict counts for its header.
        self._groups: list[Counter[str]] = []
        self._suite: str | None = None
        self._causes: Counter[str] = Counter()
        # Patient values seen so far in the run: masked where they reappear in free text later
        # (a plain-text body or an error page quoting a name from an earlier response).
        self._known = KnownValues()

    def start(self, info: RunInfo) -> None:
        self._info = dataclasses.asdict(info)

    def result(self, result: RequestResult) -> None:
        if result.suite != self._suite or not self._groups:
            self._suite = result.suite
            self._groups.append(Counter())
        self._groups[-1][result.verdict.value] += 1
        if result.cause is not Cause.OK:
            self._causes[result.cause.value] += 1
        failing = result.verdict.is_bad
        keep = failing or self._body_chars < self.body_budget
        row = result_row(
            result, self.fields, body_limit=self.body_limit, bodies=keep, known=self._known
        )
        if not failing:
            for key in ("request_body", "response_body"):
                self._body_chars += len(row[key]["text"]) if row[key] else 0
        # ASCII JSON: a lone surrogate in a name or URL must survive this UTF-8 temporary file.
        self._rows.write(json.dumps(row) + "\n")

    def finish(self, summary: RunSummary) -> None:
        self._rows.seek(0)
        page = _TEMPLATES.get_template("report.html.j2").generate(
            run=self._info,
            summary=summary,
            verdict="passed" if summary.ok else "failed",  # a fatal stop is not ok
            generated=datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
            coverage=coverage_lines(summary.coverage),
            coverage_operations=coverage_operations(summary.coverage),
            coverage_undocumented=coverage_undocumented(summary.coverage),
            causes=sorted(self._causes.items(), key=lambda item: (-item[1], item[0])),
            failures=summary.failed + summary.errors,
            fatal=mask_message(summary.fatal) if summary.fatal else None,
            groups=self._read_groups(),
        )
        try:
            with atomic_writer(self.path) as out:
                for chunk in page:
                    out.write(chunk)
        finally:
            self._rows.close()

    def _read_groups(self) -> Iterator[SuiteGroup]:
        rows = (json.loads(line) for line in self._rows)
        groups = itertools.groupby(rows, key=lambda row: row["suite"])
        for counts, (suite, members) in zip(self._groups, groups, strict=False):
            yield SuiteGroup(suite, counts, members)


@dataclass
class SuiteGroup:
    """Consecutive results of one folder or scenario; ``rows`` is read lazily from the temp file."""

    name: str
    counts: Counter[str]
    rows: Iterator[dict[str, Any]]

    @property
    def not_passed(self) -> int:
        return sum(n for verdict, n in self.counts.items() if Verdict(verdict).is_bad)


# --- rows: what one result shows, masked and bounded ------------------------------------------


def result_row(
    result: RequestResult,
    fields: SensitiveFields,
    *,
    body_limit: int = DEFAULT_BODY_LIMIT,
    bodies: bool = True,
    known: KnownValues | None = None,
) -> dict[str, Any]:
    """The masked, size-bounded facts of one result that the template renders. ``known``: the
    run's patient values so far; this exchange's are added to it."""
    failed = [c for c in result.checks if not c.passed]
    passed = [c for c in result.checks if c.passed]
    shown = (failed + passed)[:_MAX_CHECKS]
    url = mask_url(result.url, fields)
    known = known if known is not None else KnownValues()
    known.learn(
        fields, request_body=result.request_body, response_body=result.response_body, url=result.url
    )
    known_pattern = known.pattern()
    return {
        "suite": result.suite,
        "name": result.name,
        "method": result.method,
        "url": url,
        "path": _path_of(url),
        "status": result.status,
        "elapsed_ms": round(result.elapsed_ms),
        "verdict": result.verdict.value,
        "cause": "" if result.cause is Cause.OK else result.cause.value,
        "retries": max(0, len(result.attempts) - 1),
        "operation": result.operation,
        "message": mask_message(result.message, fields),
        "checks": [
            {
                "name": c.name,
                "passed": c.passed,
                "message": mask_message(c.message, fields),
                "json_path": c.json_path,
            }
            for c in shown
        ],
        "checks_failed": len(failed),
        "checks_omitted": len(result.checks) - len(shown),
        "attempts": [
            {"status": a.status, "elapsed_ms": round(a.elapsed_ms), "note": a.note}
            for a in result.attempts
        ],
        "console": result.console[:_MAX_CONSOLE],
        "console_omitted": max(0, len(result.console) - _MAX_CONSOLE),
        "drift": result.drift[:_MAX_DRIFT],
        "drift_omitted": max(0, len(result.drift) - _MAX_DRIFT),
        "request_headers": mask_headers(result.request_headers, fields),
        "request_body": render_body(
            result.request_body, fields, limit=body_limit, keep=bodies, known=known_pattern
        ),
        "response_headers": mask_headers(result.response_headers, fields),
        "response_body": render_body(
            result.response_body, fields, limit=body_limit, keep=bodies, known=known_pattern
        ),
        "search": " ".join(
            str(part)
            for part in (
                result.suite,
                result.name,
                result.method,
                url,
                result.status or "",
                "" if result.cause is Cause.OK else result.cause.value,
                mask_message(result.message, fields),
            )
        ).lower(),
    }


def _path_of(url: str) -> str:
    """The path and query: the host is the run's target, shown once in the header."""
    try:
        parts = urlsplit(url)
    except ValueError:  # "http://[::1/x" (the request errored on it), or "user:[REDACTED]@host"
        return url
    if not parts.netloc:
        return url
    return (parts.path or "/") + (f"?{parts.query}" if parts.query else "")


def render_body(
    text: str | None,
    fields: SensitiveFields,
    *,
    limit: int,
    keep: bool = True,
    known: KnownPhi = None,
) -> dict[str, Any] | None:
    """A body as shown: PHI masked, JSON pretty-printed, cut at ``limit`` characters with a note."""
    if text is None:
        return None
    if not keep:
        return {"text": "", "json": False, "note": _BUDGET_NOTE}
    if text == "":
        return {"text": "", "json": False, "note": "empty body"}
    data = parse_json_body(text)
    if data is not None:
        shown, is_json = (
            json.dumps(mask_json(data, fields, known=known), indent=2, ensure_ascii=False),
            True,
        )
    else:
        # Cut first (bounded regex work); mask_text also masks a value cut in half at the end.
        shown, is_json = mask_text(text[: limit + 1], fields, known), False
    note = ""
    if len(shown) > limit:
        total = len(shown) if is_json else len(text)
        note = f"Truncated: showing the first {_size(limit)} of {_size(total)}."
        shown = shown[:limit]
    return {"text": shown, "json": is_json, "note": note}


def _size(chars: int) -> str:
    return f"{chars / 1024:.0f} KiB" if chars < 1024 * 1024 else f"{chars / 1024 / 1024:.1f} MiB"


# --- coverage -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class CoverageLine:
    label: str
    covered: int
    total: int | None
    missing: list[str]

    @property
    def percent(self) -> int | None:
        if not self.total:
            return None
        return round(100 * self.covered / self.total)


def coverage_lines(coverage: Mapping[str, Any] | None) -> list[CoverageLine]:
    """Read ``operations`` / ``statuses`` from the run's coverage data, whatever shape they have.

    Accepted for each: a mapping with ``covered`` (a count or a list) and ``total`` (a count or a
    list), optionally ``missing`` (a list); a bare count; or a list of the covered items.
    """
    if not coverage:
        return []
    lines = []
    for key, label in (("operations", "Operations"), ("statuses", "Documented statuses")):
        line = _coverage_line(label, coverage.get(key))
        if line is not None:
            lines.append(line)
    return lines


def _coverage_line(label: str, value: Any) -> CoverageLine | None:
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, int):
        return CoverageLine(label, value, None, [])
    if isinstance(value, list):
        return CoverageLine(label, len(value), None, [])
    if not isinstance(value, Mapping):
        return None
    covered = _count(value.get("covered", value.get("exercised")))
    total = _count(value.get("total"))
    missing_value = value.get("missing", value.get("uncovered"))
    missing = [str(m) for m in missing_value] if isinstance(missing_value, list) else []
    if covered is None and total is not None and missing_value is not None:
        covered = total - len(missing)
    if covered is None:
        return None
    return CoverageLine(label, covered, total, missing[:_MAX_MISSING])


def coverage_operations(
    coverage: Mapping[str, Any] | None,
) -> list[tuple[str, list[str], list[str]]]:
    """``by_operation``: (operation, statuses exercised, statuses documented), sorted by operation."""
    by_operation = (coverage or {}).get("by_operation")
    if not isinstance(by_operation, Mapping):
        return []
    rows = []
    for operation, value in sorted(by_operation.items()):
        if isinstance(value, Mapping):
            exercised = [str(s) for s in value.get("exercised") or []]
            defined = [str(s) for s in value.get("defined") or []]
            rows.append((str(operation), exercised, defined))
    return rows


def coverage_undocumented(coverage: Mapping[str, Any] | None) -> list[str]:
    """``undocumented``: statuses seen that the contract does not document, as "OP → STATUS"."""
    items = (coverage or {}).get("undocumented")
    if not isinstance(items, list):
        return []
    return [
        f"{item.get('operation')} → {item.get('status')}"
        if isinstance(item, Mapping)
        else str(item)
        for item in items[:_MAX_MISSING]
    ]


def _count(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, (list, tuple, set, frozenset, dict)):
        return len(value)
    return None
