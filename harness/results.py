"""What a run produces: one :class:`RequestResult` per request or scenario step.

Results are plain data so that every reporter (console, JUnit, JSON, HTML) renders the same facts,
and so that they can be streamed: the runner hands each result to the reporters and keeps only the
counters in :class:`RunSummary`.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from typing import Any, Protocol, TypedDict


class Verdict(str, enum.Enum):
    PASSED = "passed"
    FAILED = "failed"  # a check failed: contract, status, assertion
    ERROR = "error"  # the request could not get a verdict from its checks: timeout, reset, auth
    SKIPPED = "skipped"

    @property
    def is_bad(self) -> bool:
        """A verdict that fails the run (and stops it under ``--bail``)."""
        return self is Verdict.FAILED or self is Verdict.ERROR


class Cause(str, enum.Enum):
    """Why a request did not pass, in words a user triages by."""

    OK = "ok"
    CONTRACT = "contract violation"
    STATUS = "unexpected status"
    ASSERTION = "assertion failed"
    SERVER_FAULT = "server fault"
    THROTTLED = "throttled"
    TIMEOUT = "timeout"
    CONNECTION = "connection error"
    AUTH = "auth"
    INPUT = "bad input"
    CASSETTE = "cassette"
    PLACEHOLDER = "unfilled placeholders"  # a converter's <type> values: not sent


class FilledPlaceholder(TypedDict):
    """What ``--fill-placeholders`` did with one placeholder, as every report shows it."""

    location: str  # "path", "query", "header", "body"...
    name: str
    placeholder: str  # as the collection wrote it: "<integer>"
    value: object  # the JSON value sent (patient data masked); None when dropped
    dropped: bool
    source: str  # where the value came from


@dataclass(frozen=True)
class Check:
    """One thing that was verified about a response."""

    name: str  # e.g. "status", "contract", "expect.json"
    passed: bool
    message: str = ""  # already masked: no secret, no PHI value
    json_path: str | None = None


@dataclass(frozen=True)
class Attempt:
    """One send of a request (retries and auth refreshes make several)."""

    status: int | None
    elapsed_ms: float
    note: str = ""  # "retry after 500", "refreshed token after 401", "waited 2.0s (Retry-After)"


@dataclass
class RequestResult:
    suite: str  # folder path or scenario name: JUnit testsuite
    name: str  # request or step name: JUnit testcase
    method: str
    url: str  # redacted
    index: int = 0  # position in the plan, for deterministic ordering under --workers
    status: int | None = None
    elapsed_ms: float = 0.0
    verdict: Verdict = Verdict.PASSED
    cause: Cause = Cause.OK
    checks: list[Check] = field(default_factory=list)
    attempts: list[Attempt] = field(default_factory=list)
    operation: str | None = None  # contract key "GET /api/patients/{id}"
    drift: list[str] = field(default_factory=list)  # unknown fields, reported not failed
    # Masked snapshots for the HTML report; None when not kept.
    request_headers: dict[str, str] | None = None
    request_body: str | None = None
    response_headers: dict[str, str] | None = None
    response_body: str | None = None
    message: str = ""  # one-line explanation for ERROR verdicts
    console: list[str] = field(default_factory=list)  # the scripts' console output, masked
    # The plan position (major) the scheduler ordered it by; the same in a shard as in the whole
    # run, so `harness report merge` puts shards' results back in plan order.
    plan_position: int = 0
    # --fill-placeholders: each placeholder's value or drop, and why (harness.placeholders.Fill)
    filled: list[FilledPlaceholder] = field(default_factory=list)

    @property
    def failed_checks(self) -> list[Check]:
        return [c for c in self.checks if not c.passed]

    def to_json(self) -> dict[str, Any]:
        return {
            "suite": self.suite,
            "name": self.name,
            "method": self.method,
            "url": self.url,
            "status": self.status,
            "elapsed_ms": round(self.elapsed_ms, 2),
            "verdict": self.verdict.value,
            "cause": self.cause.value,
            "operation": self.operation,
            "message": self.message,
            "checks": [
                {"name": c.name, "passed": c.passed, "message": c.message, "json_path": c.json_path}
                for c in self.checks
            ],
            "attempts": [
                {"status": a.status, "elapsed_ms": round(a.elapsed_ms, 2), "note": a.note}
                for a in self.attempts
            ],
            "drift": self.drift,
            "console": self.console,
            "filled": self.filled,
        }


@dataclass(frozen=True)
class NotRun:
    """Something the harness did not execute (a script, or lines of one), so that no report
    lets a verdict look as if it covered it."""

    where: str  # "request Patients/Create patient", "folder Patients", "the collection"
    what: str  # "test script lines 2-3: JavaScript the harness does not run"

    def to_json(self) -> dict[str, str]:
        return {"where": self.where, "what": self.what}

    def __str__(self) -> str:
        return f"{self.where}: {self.what}"


@dataclass
class RunSummary:
    total: int = 0
    passed: int = 0
    failed: int = 0
    errors: int = 0
    skipped: int = 0
    elapsed_s: float = 0.0
    coverage: dict[str, Any] = field(default_factory=dict)
    fatal: str | None = None  # why the run stopped early for good (refused credentials)
    not_run: list[NotRun] = field(default_factory=list)
    timed_out: str | None = None  # why --timeout stopped the run (a failed run)

    def add(self, result: RequestResult) -> None:
        self.total += 1
        if result.verdict is Verdict.PASSED:
            self.passed += 1
        elif result.verdict is Verdict.FAILED:
            self.failed += 1
        elif result.verdict is Verdict.ERROR:
            self.errors += 1
        else:
            self.skipped += 1

    @property
    def ok(self) -> bool:
        # A run that stopped on a set-up problem did not pass, whatever ran before it stopped.
        return (
            self.failed == 0 and self.errors == 0 and self.fatal is None and self.timed_out is None
        )


@dataclass(frozen=True)
class RunInfo:
    """What a run is, for the reporters' headers: given to :meth:`Reporter.start`."""

    name: str
    target: str  # "sandbox", "live", "replay"
    planned: int
    source: str | None  # the collection or scenario files; None when not from files
    shard: str | None = None  # "K/N" for a `--shard K/N` run; None for a whole run


class Reporter(Protocol):
    """Receives a run's results in plan order: ``start``, ``result`` per request, ``finish``."""

    def start(self, info: RunInfo) -> None: ...

    def result(self, result: RequestResult) -> None: ...

    def finish(self, summary: RunSummary) -> None: ...
