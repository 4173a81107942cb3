"""What a scenario file says, as immutable data (built by :mod:`harness.scenarios.loader`)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from harness.collection import RequestItem
from harness.scenarios.source import Location

AuthChoice = Literal["collection", "none"]


class _Unset:
    """Marks an optional field the file did not give (``None`` is a real JSON value)."""

    _instance: _Unset | None = None

    def __new__(cls) -> _Unset:
        if cls._instance is None:
            cls._instance = super().__new__(cls)
        return cls._instance

    def __repr__(self) -> str:
        return "UNSET"

    def __bool__(self) -> bool:
        return False


UNSET: Any = _Unset()


@dataclass(frozen=True)
class Expectation:
    status: tuple[int, ...] | None = None  # None: what the collection request expects
    contract: bool = True
    json: Any = UNSET  # a subset the response body must contain
    strict: bool = False  # the body is exactly ``json``: no other field or array element
    headers: Mapping[str, Any] = field(default_factory=dict)  # name -> text contained, or bool
    max_ms: float | None = None
    location: Location | None = None


@dataclass(frozen=True)
class RetryUntil:
    """Resend an idempotent request until ``until`` holds (bounded), then judge ``expect``."""

    until: Expectation
    attempts: int = 5
    delay_s: float = 0.5


@dataclass(frozen=True)
class CaptureSpec:
    variable: str
    source: Literal["json", "header", "status", "result"]
    expression: str = ""
    location: Location | None = None


@dataclass(frozen=True)
class InlineRequest:
    method: str
    url: str
    body_kind: Literal["none", "json", "form", "text"] = "none"
    body: Any = None


@dataclass(frozen=True)
class SandboxAction:
    action: str
    args: Mapping[str, Any] = field(default_factory=dict)
    save_as: str | None = None


@dataclass(frozen=True)
class Step:
    name: str
    location: Location
    request: RequestItem | None = None  # a collection request (``request: Folder/Name``)
    inline: InlineRequest | None = None
    sandbox: SandboxAction | None = None
    query: Mapping[str, Any] = field(default_factory=dict)  # None removes a parameter
    headers: Mapping[str, Any] = field(default_factory=dict)
    json: Any = UNSET  # merged into the collection request's JSON body (top-level fields)
    replace_body: Any = UNSET  # ``body:``: the collection request's whole body (JSON or text)
    path: Mapping[str, Any] = field(default_factory=dict)  # ``:name`` path variables
    variables: Mapping[str, Any] = field(default_factory=dict)  # this step only
    auth: AuthChoice | Mapping[str, Any] = "collection"
    expect: Expectation = field(default_factory=Expectation)
    retry_until: RetryUntil | None = None
    capture: tuple[CaptureSpec, ...] = ()
    cleanup: tuple[Step, ...] = ()  # registered when this step passes; run in reverse at the end
    scripts: bool = True  # run the collection request's Postman scripts (``scripts: false``)
    test: str | None = None  # the step's own JavaScript, run as a test script after its response
    delay_before: float = 0.0  # seconds to wait before the step (not when replaying cassettes)
    delay_after: float = 0.0  # seconds to wait after it (not when replaying cassettes)

    @property
    def kind(self) -> str:
        if self.sandbox is not None:
            return "sandbox"
        return "request" if self.request is not None else "inline"


@dataclass(frozen=True)
class Scenario:
    name: str
    location: Location
    description: str = ""
    tags: tuple[str, ...] = ()
    targets: tuple[str, ...] = ()  # empty: every target
    variables: Mapping[str, Any] = field(default_factory=dict)  # rendered in order
    rows: tuple[Mapping[str, Any], ...] = ()  # data rows; empty: run once
    steps: tuple[Step, ...] = ()
    cleanup: tuple[Step, ...] = ()

    @property
    def runs(self) -> list[tuple[str, Mapping[str, Any]]]:
        """(suite name, data row) for each run: one per row, or one without data."""
        if not self.rows:
            return [(self.name, {})]
        return [(f"{self.name} [{i}]", row) for i, row in enumerate(self.rows, start=1)]
