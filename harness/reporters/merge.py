"""``harness report merge``: the JSON summaries of a sharded run (``--shard K/N``) as one report.

Results go back in plan order (each row's ``plan_position``, the same in a shard as in the whole
run), totals are summed, contract coverage is the union of the shards'. The JUnit and HTML files
are rendered from the merged results by the reporters a run uses, so the merged report reads like
one unsharded run's (the JSON summary holds every fact the JUnit file shows; the HTML page has no
request or response bodies, which a summary does not keep). Only summaries of this harness's
``schema_version`` are read, and a set of shards must be complete: a merged report never claims
more than was run.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from harness.atomicfile import atomic_writer
from harness.errors import InputError
from harness.json_input import parse_json, read_input_text
from harness.reporters.json_report import SCHEMA_VERSION
from harness.results import (
    Attempt,
    Cause,
    Check,
    NotRun,
    Reporter,
    RequestResult,
    RunInfo,
    RunSummary,
    Verdict,
)

_HINT = "Give the JSON summaries written by `harness run --json` (with --shard K/N for shards)."


@dataclass(frozen=True)
class ShardSummary:
    """One input: the file it came from and its JSON summary."""

    path: Path
    document: dict[str, Any]

    @property
    def shard(self) -> tuple[int, int] | None:
        text = self.document["run"].get("shard")
        if not text:
            return None
        index, count = str(text).split("/")
        return int(index), int(count)


def load_summary(path: Path) -> ShardSummary:
    text = read_input_text(path, what="JSON summary", hint=_HINT)
    document = parse_json(
        text, path, what="JSON summary", remake="Run that shard again with --json"
    )
    version = document.get("schema_version") if isinstance(document, dict) else None
    if version != SCHEMA_VERSION:
        raise InputError(
            f"{path}: JSON summary schema_version {version!r}; this harness reads version "
            f"{SCHEMA_VERSION} only.",
            hint="Merge summaries written by the same harness version (run the shards again "
            "with it), or merge with the harness that wrote them.",
        )
    fields: tuple[tuple[str, type], ...] = (
        ("run", dict),
        ("summary", dict),
        ("results", list),
        ("not_run", list),
        ("started_at", str),
        ("finished_at", str),
    )
    for key, kind in fields:
        if not isinstance(document.get(key), kind):
            raise InputError(f"{path}: JSON summary without its '{key}'.", hint=_HINT)
    for key in ("total", "passed", "failed", "errors", "skipped", "elapsed_s"):
        if not isinstance(document["summary"].get(key), (int, float)):
            raise InputError(f"{path}: JSON summary without its 'summary.{key}'.", hint=_HINT)
    shard = document["run"].get("shard")
    if shard is not None and not re.fullmatch(r"[1-9][0-9]*/[1-9][0-9]*", str(shard)):
        raise InputError(f"{path}: 'run.shard' is {shard!r}, not K/N.", hint=_HINT)
    for row in document["results"]:
        try:
            result_from_row(row)
        except InputError as exc:
            raise InputError(f"{path}: {exc.message}", hint=_HINT) from None
    return ShardSummary(path, document)


def check_shards(inputs: Sequence[ShardSummary]) -> None:
    """Shards of one run: the same N, each K once, none missing; or no shards at all."""
    shards = [(item, item.shard) for item in inputs]
    sharded = [(item, shard) for item, shard in shards if shard is not None]
    if not sharded:
        return
    if len(sharded) != len(shards):
        whole = next(item for item, shard in shards if shard is None)
        raise InputError(
            f"{whole.path} is a whole run, the others are shards.",
            hint="Merge the shards of one run (--shard K/N) without it.",
        )
    counts = {count for _, (_, count) in sharded}
    if len(counts) > 1:
        raise InputError(
            "The summaries are shards of different splits ("
            + ", ".join(f"{item.path}: {i}/{n}" for item, (i, n) in sharded)
            + ").",
            hint="Merge the shards of one run: every K of the same N.",
        )
    count = counts.pop()
    seen: dict[int, Path] = {}
    for item, (index, _) in sharded:
        if index in seen:
            raise InputError(
                f"Shard {index}/{count} is given twice ({seen[index]} and {item.path}).",
                hint="Give each shard's summary once.",
            )
        seen[index] = item.path
    missing = sorted(set(range(1, count + 1)) - set(seen))
    if missing:
        raise InputError(
            f"Shard{'s' if len(missing) > 1 else ''} "
            + ", ".join(f"{i}/{count}" for i in missing)
            + " missing: a merged report would claim more than was run.",
            hint="Give every shard's summary (a shard that stopped on bad input still writes one).",
        )


def merge(inputs: Sequence[ShardSummary]) -> dict[str, Any]:
    """The merged JSON summary (same schema as one run's)."""
    check_shards(inputs)
    ordered = sorted(inputs, key=lambda item: item.shard or (0, 0))
    documents = [item.document for item in ordered]
    rows = [row for document in documents for row in document["results"]]
    if all(item.shard is not None for item in ordered):
        rows.sort(key=lambda row: row.get("plan_position", 0))  # stable: a major's rows in order
    fatal = [
        f"{item.document['run'].get('shard') or item.path}: {item.document['fatal']}"
        if len(ordered) > 1
        else item.document["fatal"]
        for item in ordered
        if item.document.get("fatal")
    ]
    counts = {
        key: sum(int(d["summary"].get(key, 0)) for d in documents)
        for key in ("total", "passed", "failed", "errors", "skipped")
    }
    runs = [d["run"] for d in documents]
    return {
        "schema_version": SCHEMA_VERSION,
        "run": {
            "name": _same_or_joined(r.get("name") for r in runs),
            "target": _same_or_joined(r.get("target") for r in runs),
            "planned": sum(int(r.get("planned") or 0) for r in runs),
            "source": _same_or_joined(r.get("source") for r in runs),
            "shard": None,
        },
        "started_at": min(d["started_at"] for d in documents),
        "finished_at": max(d["finished_at"] for d in documents),
        "fatal": "; ".join(fatal) if fatal else None,
        "summary": {
            **counts,
            # Shards run side by side: the merged run took as long as the longest.
            "elapsed_s": max(float(d["summary"].get("elapsed_s", 0)) for d in documents),
            "ok": counts["failed"] == 0 and counts["errors"] == 0 and not fatal,
        },
        "coverage": merge_coverage([d.get("coverage") or {} for d in documents]),
        "not_run": _in_plan_order(_unique(entry for d in documents for entry in d["not_run"]), rows)
        if all(item.shard is not None for item in ordered)
        else _unique(entry for d in documents for entry in d["not_run"]),
        "results": rows,
    }


def merge_coverage(parts: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    """The union of the shards' contract coverage (each lists the operations it exercised)."""
    parts = [part for part in parts if part]
    if not parts:
        return {}
    by_operation: dict[str, dict[str, list[int]]] = {}
    for part in parts:
        for operation, seen in part.get("by_operation", {}).items():
            entry = by_operation.setdefault(
                operation, {"exercised": [], "defined": list(seen.get("defined", []))}
            )
            entry["exercised"] = sorted(set(entry["exercised"]) | set(seen.get("exercised", [])))
    undocumented = sorted(
        {(u["operation"], u["status"]) for part in parts for u in part.get("undocumented", [])}
    )
    return {
        "operations": {
            "exercised": len(by_operation),
            "total": parts[0].get("operations", {}).get("total", 0),
        },
        "statuses": {
            "exercised": sum(len(e["exercised"]) for e in by_operation.values()),
            "total": parts[0].get("statuses", {}).get("total", 0),
        },
        "by_operation": dict(sorted(by_operation.items())),
        "undocumented": [{"operation": o, "status": s} for o, s in undocumented],
    }


def write_merged(
    merged: Mapping[str, Any], *, json_path: Path, junit: Path | None, html: Path | None
) -> None:
    """Write the merged JSON summary, and the JUnit and HTML reports rendered from it."""
    import json

    results = [result_from_row(row) for row in merged["results"]]  # all read before any write
    with atomic_writer(json_path) as out:
        out.write(json.dumps(merged, indent=2) + "\n")
    reporters: list[Reporter] = []
    if junit is not None:
        from harness.reporters.junit import JUnitReporter

        reporters.append(JUnitReporter(junit))
    if html is not None:
        from harness.reporters.html import HtmlReporter

        reporters.append(HtmlReporter(html))
    if not reporters:
        return
    run = merged["run"]
    info = RunInfo(run["name"], run["target"], run["planned"], run["source"])
    for reporter in reporters:
        reporter.start(info)
    for index, result in enumerate(results):
        result.index = index
        for reporter in reporters:
            reporter.result(result)
    summary = RunSummary(
        **{k: merged["summary"][k] for k in ("total", "passed", "failed", "errors", "skipped")},
        elapsed_s=merged["summary"]["elapsed_s"],
        coverage=merged["coverage"],
        fatal=merged["fatal"],
        not_run=[NotRun(e["where"], e["what"]) for e in merged["not_run"]],
    )
    for reporter in reporters:
        reporter.finish(summary)


def result_from_row(row: Mapping[str, Any]) -> RequestResult:
    """A result as a run's reporters received it, from its row in a JSON summary."""
    if not isinstance(row, Mapping):
        raise InputError(
            f"A result in the JSON summaries is not an object: {row!r:.80}.", hint=_HINT
        )
    try:
        return RequestResult(
            suite=row["suite"],
            name=row["name"],
            method=row["method"],
            url=row["url"],
            status=row["status"],
            elapsed_ms=float(row["elapsed_ms"]),
            verdict=Verdict(row["verdict"]),
            cause=Cause(row["cause"]),
            checks=[
                Check(c["name"], bool(c["passed"]), c["message"], c.get("json_path"))
                for c in row["checks"]
            ],
            attempts=[
                Attempt(a["status"], float(a["elapsed_ms"]), a.get("note", ""))
                for a in row["attempts"]
            ],
            operation=row.get("operation"),
            drift=list(row.get("drift", [])),
            message=row.get("message", ""),
            console=list(row.get("console", [])),
            plan_position=int(row.get("plan_position", 0)),
        )
    except (KeyError, TypeError, ValueError) as exc:
        raise InputError(
            f"Result '{row.get('suite')}/{row.get('name')}' of the JSON summaries is malformed "
            f"({exc!r}).",
            hint=_HINT,
        ) from None


def _same_or_joined(values: Iterable[Any]) -> Any:
    distinct = list(dict.fromkeys(values))
    return distinct[0] if len(distinct) == 1 else "; ".join(str(v) for v in distinct)


def _in_plan_order(
    entries: Sequence[Mapping[str, str]], rows: Sequence[Mapping[str, Any]]
) -> list[Mapping[str, str]]:
    """Shards' not-run entries in the order one unsharded run lists them: the collection's
    first, then by the plan position of the request or folder each names (entries naming
    nothing among the results keep their order, after those)."""
    first: dict[str, int] = {}
    for row in rows:
        path = f"{row.get('suite')}/{row.get('name')}"
        at = int(row.get("plan_position", 0))
        first.setdefault(f"request {path}", at)
        parts = str(row.get("suite")).split("/")
        for depth in range(1, len(parts) + 1):
            first.setdefault(f"folder {'/'.join(parts[:depth])}", at)
    last = max(first.values(), default=0) + 1

    def position(entry: Mapping[str, str]) -> int:
        where = str(entry.get("where"))
        return -1 if where == "the collection" else first.get(where, last)

    return sorted(entries, key=position)


def _unique(entries: Iterable[Mapping[str, str]]) -> list[Mapping[str, str]]:
    """Entries in first-seen order, each once (shards may list the same script)."""
    seen: set[tuple[str | None, str | None]] = set()
    kept = []
    for entry in entries:
        key = (entry.get("where"), entry.get("what"))
        if key not in seen:
            seen.add(key)
            kept.append(entry)
    return kept
