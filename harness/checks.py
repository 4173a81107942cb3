"""Judge a response: expected status, contract, and the cause a user triages by.

Pure: it reads a response object and the contract set, and returns checks and a verdict.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

import httpx
import jmespath
from jmespath.exceptions import JMESPathError

from harness.json_input import loads_json
from harness.results import Cause, Check, Verdict
from harness.scripts import Capture


class ContractChecker(Protocol):
    def check(
        self,
        *,
        method: str,
        url: str,
        status: int,
        content_type: str | None,
        body: bytes,
        strict: bool = False,
    ) -> Any: ...

    def required_scopes(self, method: str, path: str) -> list[str]: ...


READ_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


@dataclass
class Judgement:
    checks: list[Check] = field(default_factory=list)
    verdict: Verdict = Verdict.PASSED
    cause: Cause = Cause.OK
    operation: str | None = None
    drift: list[str] = field(default_factory=list)


def judge(
    response: httpx.Response,
    method: str,
    expected: Sequence[int],
    contracts: ContractChecker | None,
    *,
    strict: bool = False,
    granted_scopes: Sequence[str] | None = None,
) -> Judgement:
    result = Judgement()
    status = response.status_code
    status_ok = status in expected if expected else 200 <= status < 400
    want = ", ".join(map(str, expected)) if expected else "2xx or 3xx"
    message = "" if status_ok else f"expected status {want}, got {status}"
    if not status_ok and status == 403 and contracts is not None:
        message += _scope_report(contracts, method, str(response.request.url), granted_scopes)
    result.checks.append(Check("status", status_ok, message))

    if contracts is not None:
        report = contracts.check(
            method=method,
            url=str(response.request.url),
            status=status,
            content_type=response.headers.get("content-type"),
            body=response.content,
            strict=strict,
        )
        result.operation = report.operation
        result.drift = list(report.drift)
        if report.operation is None:
            result.checks.append(
                Check("contract", False, "no contract matches this method and path")
            )
        for violation in report.violations:
            result.checks.append(
                Check("contract", False, violation.message, json_path=violation.json_path)
            )
        if report.operation is not None and not report.violations:
            result.checks.append(Check("contract", True, report.operation))

    failed = [c for c in result.checks if not c.passed]
    if failed:
        result.verdict, result.cause = classify(status, failed)
    return result


def classify(status: int, failed: Sequence[Check]) -> tuple[Verdict, Cause]:
    """Server faults, throttling and auth are errors of the run; the rest are check failures."""
    status_failed = any(c.name == "status" for c in failed)
    if status_failed and status >= 500:
        return Verdict.ERROR, Cause.SERVER_FAULT
    if status_failed and status == 429:
        return Verdict.ERROR, Cause.THROTTLED
    if status_failed and status in (401, 403):
        return Verdict.FAILED, Cause.AUTH
    if any(c.name == "contract" for c in failed):
        return Verdict.FAILED, Cause.CONTRACT
    if status_failed:
        return Verdict.FAILED, Cause.STATUS
    return Verdict.FAILED, Cause.ASSERTION


def _scope_report(
    contracts: ContractChecker, method: str, url: str, granted: Sequence[str] | None
) -> str:
    from urllib.parse import urlsplit

    listed = contracts.required_scopes(method, urlsplit(url).path)
    # DrChrono's documents list a resource's read and write scopes together; reads need a
    # ":read" one, writes a ":write" one.
    suffix = ":read" if method in READ_METHODS else ":write"
    needed = [s for s in listed if s.endswith(suffix)] or listed
    if not needed:
        return ""
    text = f"; the operation needs scope {' or '.join(needed)}"
    if granted is not None:
        text += f"; the token has {' '.join(sorted(granted)) or 'no scopes'}"
        if not any(s in granted for s in needed):
            text += ". Authorize again with one of the needed scopes (harness auth login)"
    return text


def capture(response: httpx.Response, captures: Sequence[Capture]) -> dict[str, str]:
    """Values for the variables a request captures; a capture that finds nothing is left out."""
    found: dict[str, str] = {}
    body: Any = _MISSING
    for item in captures:
        if item.source == "status":
            found[item.variable] = str(response.status_code)
        elif item.source == "header":
            value = response.headers.get(item.expression)
            if value is not None:
                found[item.variable] = value
        else:
            if body is _MISSING:
                body = parse_json_body(response.content)
            if body is _MISSING:
                continue
            try:
                value = jmespath.search(item.expression, body)
            except JMESPathError:
                continue
            if value is not None:
                found[item.variable] = value if isinstance(value, str) else json.dumps(value)
    return found


_MISSING: Any = object()


def parse_json_body(content: bytes) -> Any:
    if not content:
        return _MISSING
    try:
        return loads_json(content)  # a nesting bomb is "not JSON" here, not a crash
    except (ValueError, UnicodeDecodeError):
        return _MISSING
