"""A JSON summary for machines: run totals, coverage, and every result.

Results are streamed to a temporary file as they arrive; the report is assembled (atomically) at
the end, so memory does not grow with the number of requests.
"""

from __future__ import annotations

import dataclasses
import json
import tempfile
from pathlib import Path
from typing import IO, Any

from harness.atomicfile import atomic_writer
from harness.masking import mask_message, mask_url
from harness.results import RequestResult, RunInfo, RunSummary


class JsonReporter:
    def __init__(self, path: Path) -> None:
        self.path = path
        self._rows: IO[str] = tempfile.TemporaryFile("w+", encoding="utf-8")
        self._count = 0
        self._info: dict[str, Any] = {}

    def start(self, info: RunInfo) -> None:
        self._info = dataclasses.asdict(info)

    def result(self, result: RequestResult) -> None:
        row = result.to_json()
        # Query values, userinfo and keyed values in messages, as the HTML report masks them.
        row["url"] = mask_url(result.url)
        row["message"] = mask_message(result.message)
        for check in row["checks"]:
            check["message"] = mask_message(check["message"])
        self._rows.write(("," if self._count else "") + "\n    " + json.dumps(row))
        self._count += 1

    def finish(self, summary: RunSummary) -> None:
        head = {
            "run": self._info,
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
