"""What goes into and comes out of a Postman script execution (no JavaScript engine imported here).

The run loop uses it in two calls around sending (see :class:`harness.scripting.ScriptRunner`)::

    pre = runner.run_prerequest(scripts, ScriptRequest.from_item(item), scopes, info)
    item = pre.request.apply_to(item)            # the script may have changed url/headers/body/auth
    ... build and send, unless pre.skip_request ...
    post = runner.run_test(scripts, ScriptRequest.from_built(built), ScriptResponse.from_httpx(r, ms), scopes, info)

Variable changes are applied to the run's :class:`harness.variables.Scopes` as the script makes
them (so a later script in the same run sees them, as in Newman) and are also listed in the outcome
for the report.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Literal

from harness.collection import Auth, Body, KeyValue, RequestItem, Url

# Defined beside the collection model, which holds each request's scripts; re-exported here.
from harness.scripts import EventName as EventName
from harness.scripts import ScriptSource as ScriptSource

if TYPE_CHECKING:
    import httpx

    from harness.build import BuiltRequest

ScopeName = Literal["local", "data", "environment", "collection", "globals"]


@dataclass(frozen=True, slots=True)
class ScriptInfo:
    """``pm.info``."""

    request_name: str
    request_id: str = ""
    iteration: int = 0
    iteration_count: int = 1
    request_description: str = ""  # the legacy `request.description`


@dataclass(frozen=True, slots=True)
class ScriptRequest:
    """The request as a script sees and changes it (``pm.request``); ``url`` includes the query."""

    method: str
    url: str
    headers: tuple[KeyValue, ...] = ()
    body: Body | None = None
    auth: Auth | None = None

    @classmethod
    def from_item(cls, item: RequestItem) -> ScriptRequest:
        """The unresolved collection request, as a pre-request script sees it in Newman."""
        enabled = [q for q in item.url.query if not q.disabled]
        query = "&".join(f"{q.key}={q.value}" if q.has_value else q.key for q in enabled)
        url = item.url.raw + (("&" if "?" in item.url.raw else "?") + query if query else "")
        return cls(item.method, url, item.headers, item.body, item.auth)

    @classmethod
    def from_built(cls, built: BuiltRequest) -> ScriptRequest:
        """The request as sent, for test scripts."""
        text = built.content.decode("utf-8", "replace") if built.content is not None else None
        body = Body(mode="raw", raw=text) if text is not None else None
        headers = tuple(KeyValue(k, v) for k, v in built.headers)
        return cls(built.method, built.url, headers, body, None)

    def apply_to(self, item: RequestItem) -> RequestItem:
        """``item`` with this request's method, url, headers, body and auth (path variables kept)."""
        base, _, query_text = self.url.partition("?")
        query = tuple(_query_pair(part) for part in query_text.split("&") if part)
        disabled = tuple(q for q in item.url.query if q.disabled)
        url = Url(raw=base, query=query + disabled, path_variables=item.url.path_variables)
        return replace(
            item, method=self.method, url=url, headers=self.headers, body=self.body, auth=self.auth
        )


@dataclass(frozen=True, slots=True)
class ScriptResponse:
    """``pm.response``: what came back, with the time it took."""

    code: int
    reason: str
    headers: tuple[tuple[str, str], ...]
    body: bytes
    response_time_ms: float

    @classmethod
    def from_httpx(cls, response: httpx.Response, response_time_ms: float) -> ScriptResponse:
        return cls(
            code=response.status_code,
            reason=response.reason_phrase,
            headers=tuple(response.headers.multi_items()),
            body=response.content,
            response_time_ms=response_time_ms,
        )


@dataclass(frozen=True, slots=True)
class TestResult:
    """One ``pm.test`` (or legacy ``tests[name]``). ``error_name``/``message`` are set on failure."""

    name: str
    passed: bool
    skipped: bool = False
    error_name: str = ""
    message: str = ""  # Chai's/Newman's wording, e.g. "expected 200 to equal 201"


@dataclass(frozen=True, slots=True)
class ConsoleLine:
    level: str  # log | info | warn | error | debug
    text: str


@dataclass(frozen=True, slots=True)
class ScriptFailure:
    """A script that threw, ran out of time or memory: a failure of its request, as in Newman."""

    owner: str
    event: EventName
    line: int | None  # 1-based, in the script's own text
    kind: Literal["error", "timeout", "memory"]
    error_name: str
    message: str

    def describe(self) -> str:
        at = f", line {self.line}" if self.line is not None else ""
        return f"{self.error_name} in the {self.event} script of {self.owner}{at}: {self.message}"


@dataclass(frozen=True, slots=True)
class VariableChange:
    """A variable a script set (``value``) or unset (``value is None``); ``name == "*"`` is a clear."""

    scope: ScopeName
    name: str
    value: str | None


@dataclass(frozen=True, slots=True)
class NextRequest:
    """``pm.execution.setNextRequest(name)``; ``name is None`` means stop the run."""

    name: str | None


@dataclass(frozen=True, slots=True)
class ScriptOutcome:
    """The merged result of the scripts of one event, in the order they ran."""

    request: ScriptRequest  # as the scripts left it (only pre-request scripts may change it)
    tests: tuple[TestResult, ...] = ()
    console: tuple[ConsoleLine, ...] = ()
    failures: tuple[ScriptFailure, ...] = ()
    variable_changes: tuple[VariableChange, ...] = ()
    next_request: NextRequest | None = None  # None: no directive, go on in order
    skip_request: bool = False

    @property
    def passed(self) -> bool:
        return not self.failures and all(t.passed or t.skipped for t in self.tests)


# pm.sendRequest: the runner routes it through the harness's sender. An exception's message is
# handed to the script as the callback's error.
SendRequest = Callable[[ScriptRequest], ScriptResponse]


@dataclass(frozen=True, slots=True)
class ScriptLimits:
    """Per-execution limits (``--timeout-script`` and the engine's heap)."""

    timeout_s: float = 5.0
    memory_bytes: int = 64 * 1024 * 1024


def _query_pair(part: str) -> KeyValue:
    """One ``key=value`` of a script's URL, kept as written: not decoded (``a%40b.com`` stays
    encoded, as Newman sends it) and ``?debug`` stays without ``=``."""
    key, sep, value = part.partition("=")
    return KeyValue(key, value, has_value=bool(sep))
