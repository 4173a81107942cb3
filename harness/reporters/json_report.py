"""A JSON summary for machines: run totals, coverage, and every result.

Its shape is published as a JSON Schema, docs/summary.schema.json, under ``schema_version``
(:data:`SCHEMA_VERSION`): a field added or changed in meaning raises the version, and
``harness report merge`` refuses summaries of another version. Results are streamed to a temporary file as they arrive; the report is assembled (atomically) at
the end, so memory does not grow with the number of requests.
"""

from __future__ import annotations

import dataclasses
import json
import tempfile
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any

from harness.atomicfile import atomic_writer
from harness.masking import mask_message, mask_url
from harness.results import RequestResult, RunInfo, RunSummary

SCHEMA_VERSION = 1


def utc_timestamp() -> str:
    """Now, as UTC ISO 8601 with milliseconds (``2026-11-29T21:30:00.123+00:00``)."""
    return datetime.now(UTC).isoformat(timespec="milliseconds")


class JsonReporter:
    def __init__(self, path: Path) -> None:
        self.path = path
        self._rows: IO[str] = tempfile.TemporaryFile("w+", encoding="utf-8")
        self._count = 0
        self._info: dict[str, Any] = {}
        self._started_at: str | None = None

    def start(self, info: RunInfo) -> None:
        self._info = dataclasses.asdict(info)
        self._started_at = utc_timestamp()

    def result(self, result: RequestResult) -> None:
        row = result.to_json()
        # Query values, userinfo and keyed values in messages, as the HTML report masks them.
        row["plan_position"] = result.plan_position  # shards merge back in this order
        row["url"] = mask_url(result.url)
        row["message"] = mask_message(result.message)
        for check in row["checks"]:
            check["message"] = mask_message(check["message"])
        self._rows.write(("," if self._count else "") + "\n    " + json.dumps(row))
        self._count += 1

    def finish(self, summary: RunSummary) -> None:
        finished_at = utc_timestamp()
        head = {
            "schema_version": SCHEMA_VERSION,
            "run": self._info,
            "started_at": self._started_at or finished_at,
            "finished_at": finished_at,
            # Why the run stopped before its end (refused credentials, bad input): no verdict
            # in "results" covers what it did not reach.
            "fatal": mask_message(summary.fatal) if summary.fatal else None,
            "summary": {
                "total": summary.total,
                "passed": summary.passed,
                "failed": summary.failed,
                "errors": summary.errors,
                "skipped": summary.skipped,
                "elapsed_s": round(summary.elapsed_s, 3),
                "ok": summary.ok,
            },
            "coverage": {k: v for k, v in summary.coverage.items() if k != "text"},
            # What the harness did not execute: no verdict in "results" covers it.
            "not_run": [entry.to_json() for entry in summary.not_run],
        }
        self._rows.seek(0)
        with atomic_writer(self.path) as out:
            text = json.dumps(head, indent=2)
            out.write(text[:-2] + ',\n  "results": [')
            while chunk := self._rows.read(1 << 16):
                out.write(chunk)
            out.write("\n  ]\n}\n")
        self._rows.close()
