"""Run a plan of collection requests and stream one result per request to the reporters.

The plan is cut into *units*: the requests of one top-level folder, which stay in order because
they chain (create, then read back what was created). Units run concurrently under ``--workers``
when they do not depend on each other: a unit depends on an earlier one when it uses a variable
that the earlier one captures. Results are emitted in plan order whatever the completion order,
so reports are deterministic.
"""

from __future__ import annotations

import dataclasses
import threading
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from typing import Protocol

from harness.checks import ContractChecker, capture
from harness.collection import RequestItem
from harness.errors import UnresolvedVariableError
from harness.execute import Execution, RequestExecutor, RunnerConfig
from harness.redaction import SecretRegistry
from harness.results import Cause, Check, RequestResult, RunSummary, Verdict
from harness.scripting.hooks import RequestScripts, ScriptedOrder, redirects
from harness.sender import Sender, TokenSource
from harness.variables import Scopes, placeholders

FATAL_SKIP_MESSAGE = "not sent: DrChrono refused the credentials (see the first auth error)"
FATAL_SEEN_MESSAGE = "DrChrono refused the credentials (see the first auth error)"


class Reporter(Protocol):
    def start(self, info: RunInfo) -> None: ...

    def result(self, result: RequestResult) -> None: ...

    def finish(self, summary: RunSummary) -> None: ...


@dataclass(frozen=True)
class RunInfo:
    name: str
    target: str  # "sandbox", "live", "replay"
    planned: int
    source: str


@dataclass
class Unit:
    name: str
    items: list[tuple[int, RequestItem]]
    captures: set[str] = field(default_factory=set)
    uses: set[str] = field(default_factory=set)
    depends_on: set[str] = field(default_factory=set)


def request_variables(item: RequestItem) -> set[str]:
    """Every variable name a request refers to (URL, headers, body, auth)."""
    texts = [item.url.raw]
    texts += [
        kv.key + kv.value for kv in (*item.url.query, *item.url.path_variables, *item.headers)
    ]
    if item.body is not None:
        texts += [item.body.raw, item.body.graphql_query, item.body.graphql_variables]
        texts += [kv.key + kv.value for kv in item.body.fields]
    if item.auth is not None:
        texts += [str(v) for v in item.auth.params.values()]
    return {name for text in texts for name in placeholders(text)}


def plan_units(items: Sequence[RequestItem], *, offset: int = 0) -> list[Unit]:
    units: dict[str, Unit] = {}
    for index, item in enumerate(items, start=offset):
        key = item.folder_path[0] if item.folder_path else "(root)"
        unit = units.setdefault(key, Unit(key, []))
        unit.items.append((index, item))
        unit.uses |= request_variables(item)
        unit.captures |= item.variables_set
    ordered = list(units.values())
    for position, unit in enumerate(ordered):
        for earlier in ordered[:position]:
            if unit.uses & earlier.captures:
                unit.depends_on.add(earlier.name)
    return ordered


def preflight(items: Sequence[RequestItem], scopes: Scopes) -> None:
    """Refuse to start when a request uses a variable nothing defines or captures before it."""
    captured: set[str] = set()
    for item in items:
        for name in sorted(request_variables(item)):
            # A name the request's own pre-request scripts may set counts too.
            if name in captured or name in item.variables_set or scopes.defined(name):
                continue
            raise UnresolvedVariableError(name, f"request '{item.full_name}'")
        captured |= item.variables_set


class OrderedEmitter:
    """Hands results to reporters in plan order, holding back only those that finish early."""

    def __init__(self, reporters: Sequence[Reporter], summary: RunSummary) -> None:
        self.reporters = reporters
        self.summary = summary
        self._pending: dict[int, RequestResult] = {}
        self._next = 0
        self._lock = threading.Lock()
        self._skip: set[int] = set()

    def emit(self, result: RequestResult) -> None:
        with self._lock:
            self._pending[result.index] = result
            self._flush()

    def drop(self, indexes: Iterable[int]) -> None:
        """Indexes that will never produce a result (a bailed run)."""
        with self._lock:
            self._skip.update(indexes)
            self._flush()

    def _flush(self) -> None:
        while True:
            if self._next in self._skip:
                self._next += 1
                continue
            result = self._pending.pop(self._next, None)
            if result is None:
                return
            self.summary.add(result)
            for reporter in self.reporters:
                reporter.result(result)
            self._next += 1


class Runner:
    """Runs requests with the given senders, token sources and contracts."""

    def __init__(
        self,
        *,
        scopes: Scopes,
        sender_for: Callable[[str], Sender],
        tokens_for: Callable[[Mapping[str, str]], TokenSource],
        contracts: ContractChecker | None,
        secrets: SecretRegistry,
        reporters: Sequence[Reporter],
        config: RunnerConfig,
        scripts: RequestScripts | None = None,
    ) -> None:
        self.scopes = scopes
        self.sender_for = sender_for
        self.tokens_for = tokens_for
        self.contracts = contracts
        self.secrets = secrets
        self.reporters = reporters
        self.config = config
        self._stop = threading.Event()
        self._captured_lock = threading.Lock()
        self._suite_suffix = ""
        # Set when DrChrono refuses the credentials themselves: nothing later can succeed.
        self.fatal: str | None = None
        self._fatal_lock = threading.Lock()
        self.executor = RequestExecutor(
            tokens_for=tokens_for,
            contracts=contracts,
            secrets=secrets,
            config=config,
            scripts=scripts,
        )
        self.scripts = scripts
        self._scripted_index = 0  # results emitted so far when scripts set the order

    @property
    def exercised(self) -> set[tuple[str, int]]:
        return self.executor.exercised

    def run(
        self,
        items: Sequence[RequestItem],
        info: RunInfo,
        data_rows: Sequence[Mapping[str, str]] = (),
    ) -> RunSummary:
        """Run the plan once, or once per iteration-data row (Newman's ``-d``)."""
        summary = RunSummary()
        started = time.perf_counter()
        for reporter in self.reporters:
            reporter.start(info)
        emitter = OrderedEmitter(self.reporters, summary)
        rows = list(data_rows) or [{}]
        for iteration, row in enumerate(rows):
            if self._stop.is_set() or self.fatal is not None:
                break
            self.scopes.data = dict(row)
            self.scopes.local.clear()  # captures do not leak from one iteration into the next
            self._suite_suffix = f" [{iteration + 1}]" if len(rows) > 1 else ""
            units = plan_units(items, offset=iteration * len(items))
            if self.scripts is not None:  # --- Postman scripts: pm.info and setNextRequest ---
                self.scripts.iteration, self.scripts.iteration_count = iteration, len(rows)
                if redirects(items):  # Newman's order, one request at a time, even with --workers
                    self._run_scripted(items, emitter)
                    continue
            if self.config.workers <= 1 or len(units) == 1:
                for unit in units:
                    self._run_unit(unit, emitter)
            else:
                self._run_concurrently(units, emitter)
        summary.elapsed_s = time.perf_counter() - started
        return summary

    def _run_scripted(self, items: Sequence[RequestItem], emitter: OrderedEmitter) -> None:
        """One iteration in the order the scripts set (see :class:`ScriptedOrder`)."""
        order = ScriptedOrder(items)
        position: int | None = 0 if items else None
        while position is not None and not self._stop.is_set() and self.fatal is None:
            item = items[position]
            sender = self.sender_for(item.folder_path[0] if item.folder_path else "(root)")
            execution = self._run_one(self._scripted_index, item, sender)
            self._scripted_index += 1
            step = order.after(position, execution.next_request)
            if step.note:
                execution.result.console.append(step.note)
            if step.failed:
                execution.result.checks.append(Check("setNextRequest", False, step.note))
                execution.result.verdict, execution.result.cause = Verdict.FAILED, Cause.ASSERTION
            emitter.emit(execution.result)
            if execution.fatal:
                self.fatal = execution.result.message
            if order.stop_run or (
                self.config.bail and execution.result.verdict in (Verdict.FAILED, Verdict.ERROR)
            ):
                self._stop.set()
            position = step.position

    def _run_concurrently(self, units: list[Unit], emitter: OrderedEmitter) -> None:
        done: set[str] = set()
        waiting = list(units)
        running: dict[Future[None], Unit] = {}
        with ThreadPoolExecutor(max_workers=self.config.workers, thread_name_prefix="unit") as pool:
            while waiting or running:
                for unit in [u for u in waiting if u.depends_on <= done]:
                    waiting.remove(unit)
                    running[pool.submit(self._run_unit, unit, emitter)] = unit
                if not running:  # a dependency that can never finish: cannot happen, be safe
                    break
                finished, _ = wait(list(running), return_when=FIRST_COMPLETED)
                for future in finished:
                    future.result()
                    done.add(running.pop(future).name)

    def _run_unit(self, unit: Unit, emitter: OrderedEmitter) -> None:
        sender = self.sender_for(unit.name)
        for position, (index, item) in enumerate(unit.items):
            if self.fatal is not None:
                # Every later request would be refused the same way: say so once per request,
                # without sending anything (and without hammering the token endpoint).
                for later_index, later in unit.items[position:]:
                    emitter.emit(self._not_sent(later_index, later, FATAL_SKIP_MESSAGE))
                return
            if self._stop.is_set():
                emitter.drop(i for i, _ in unit.items[position:])
                return
            execution = self._run_one(index, item, sender)
            result = execution.result
            if execution.fatal:
                with self._fatal_lock:
                    first = self.fatal is None
                    if first:
                        self.fatal = result.message
                if not first:
                    # Another unit met the same refusal at the same time (--workers): the
                    # instruction is said once, by the first.
                    result = (
                        self._not_sent(index, item, FATAL_SKIP_MESSAGE)
                        if not result.attempts
                        else dataclasses.replace(result, message=FATAL_SEEN_MESSAGE)
                    )
            emitter.emit(result)
            if self.config.bail and execution.result.verdict in (Verdict.FAILED, Verdict.ERROR):
                self._stop.set()

    def _run_one(self, index: int, item: RequestItem, sender: Sender) -> Execution:
        execution = self.executor.execute(index, item, sender, self.scopes, suite=self._suite(item))
        response = execution.response
        if (
            self.scripts is None
            and response is not None
            and (execution.result.verdict is Verdict.PASSED or response.status_code < 400)
        ):
            captured = capture(response, item.captures)
            with self._captured_lock:
                self.scopes.local.update(captured)
        return execution

    def _suite(self, item: RequestItem) -> str | None:
        return item.suite + self._suite_suffix if self._suite_suffix else None

    def _not_sent(self, index: int, item: RequestItem, message: str) -> RequestResult:
        return RequestResult(
            suite=self._suite(item) or item.suite,
            name=item.name,
            method=item.method,
            url=item.url.raw,
            index=index,
            verdict=Verdict.SKIPPED,
            cause=Cause.AUTH,
            message=message,
        )
