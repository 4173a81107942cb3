"""Write one artifact (a report or a cassette) and optionally die midway, like ``kill -9``.

Usage: ``python -m tests.crash_helpers.write_artifact KIND PATH LABEL CRASH``
KIND: json, junit, html, cassette. LABEL is written into every result/interaction so the test can
tell the old file from the new one. CRASH: ``none``; ``write`` (die after half of the file's
write calls); ``fsync`` (die once the temp file is complete, before the rename); ``replace`` (die
in place of the rename). Dying is ``os._exit(9)``: no ``finally``, no cleanup.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Any

CRASH_CODE = 9
ROWS = 400  # large enough that a report is written in many chunks


def arm(crash: str) -> None:
    if crash == "replace":
        os.replace = lambda *a, **k: os._exit(CRASH_CODE)
    elif crash == "fsync":
        os.fsync = lambda fd: os._exit(CRASH_CODE)
    elif crash == "write":
        real_fdopen = os.fdopen

        class Dying:
            def __init__(self, handle: Any) -> None:
                self.handle = handle
                self.calls = 0

            def write(self, text: str) -> int:
                self.calls += 1
                if self.calls >= 2 or len(text) > 10_000:  # half of a chunk reaches the disk
                    self.handle.write(text[: len(text) // 2])
                    self.handle.flush()
                    os._exit(CRASH_CODE)
                return int(self.handle.write(text))

            def __getattr__(self, name: str) -> Any:
                return getattr(self.handle, name)

            def __enter__(self) -> Dying:
                self.handle.__enter__()
                return self

            def __exit__(self, *exc: Any) -> None:
                self.handle.__exit__(*exc)

        os.fdopen = lambda *a, **k: Dying(real_fdopen(*a, **k))  # type: ignore[assignment]


def write_report(kind: str, path: Path, label: str) -> None:
    from harness.results import Attempt, RequestResult, RunInfo, RunSummary, Verdict

    if kind == "json":
        from harness.reporters import JsonReporter as Reporter
    elif kind == "junit":
        from harness.reporters import JUnitReporter as Reporter  # type: ignore[assignment]
    else:
        from harness.reporters.html import HtmlReporter as Reporter  # type: ignore[assignment]
    reporter = Reporter(path)
    reporter.start(RunInfo(label, "sandbox", ROWS, "crash-helper"))
    summary = RunSummary()
    for index in range(ROWS):
        result = RequestResult(
            suite=f"suite-{label}",
            name=f"{label}-{index}",
            method="GET",
            url=f"http://127.0.0.1/api/{label}/{index}",
            index=index,
            status=200,
            verdict=Verdict.PASSED,
            attempts=[Attempt(200, 1.0)],
            response_body="x" * 200,
        )
        summary.add(result)
        reporter.result(result)
    reporter.finish(summary)


def write_cassette(path: Path, label: str) -> None:
    from vcr.request import Request

    from harness.cassettes.persister import GuardedPersister
    from harness.cassettes.serializer import ReadableYamlSerializer

    requests = [Request("GET", f"http://127.0.0.1/api/{label}/{n}", None, {}) for n in range(ROWS)]
    body = json.dumps({"label": label, "pad": "y" * 200})
    responses = [
        {
            "status": {"code": 200, "message": "OK"},
            "headers": {"Content-Type": ["application/json"]},
            "body": {"string": body},
        }
        for _ in range(ROWS)
    ]
    GuardedPersister().save_cassette(
        path, {"requests": requests, "responses": responses}, ReadableYamlSerializer()
    )


def main(argv: list[str]) -> int:
    kind, target, label, crash = argv
    path = Path(target)
    arm(crash)
    if kind == "cassette":
        write_cassette(path, label)
    else:
        write_report(kind, path, label)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
