"""A plan of collection requests cut into units that the scheduler runs.

A unit is the requests of one top-level folder, which stay in order because they chain (create,
then read back what was created). A unit depends on an earlier one when it uses a variable that
the earlier one captures; independent units may run concurrently under ``--workers``. Each request
is one *major* of the ordered output (its plan index), so results come out in plan order.
"""

from __future__ import annotations

import contextlib
import dataclasses
import threading
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field

from harness.checks import capture
from harness.collection import RequestItem
from harness.errors import UnresolvedVariableError
from harness.exchange import ExchangeOutcome, ExchangeRunner
from harness.results import Cause, RequestResult, Verdict
from harness.scheduler import UnitContext
from harness.sender import Sender
from harness.variables import Scopes, placeholders

FATAL_SKIP_MESSAGE = "not sent: DrChrono refused the credentials (see the first auth error)"
FATAL_SEEN_MESSAGE = "DrChrono refused the credentials (see the first auth error)"
ROOT_UNIT = "(root)"

VariablesOf = Callable[[RequestItem], frozenset[str]]


def unit_name(item: RequestItem) -> str:
    """The unit a request belongs to: its top-level folder (its cassette and sender)."""
    return item.folder_path[0] if item.folder_path else ROOT_UNIT


def request_variables(item: RequestItem) -> frozenset[str]:
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
    return frozenset(name for text in texts for name in placeholders(text))


class RequestVariables:
    """:func:`request_variables`, computed once per item for the life of a session (a plan is
    checked once per data row and cut into units once per row)."""

    def __init__(self) -> None:
        # Keyed by identity (items hold dicts, so they do not hash); the item is kept alive with
        # its names so that an id is never reused for another item while it is cached.
        self._by_id: dict[int, tuple[RequestItem, frozenset[str]]] = {}
        self._lock = threading.Lock()

    def __call__(self, item: RequestItem) -> frozenset[str]:
        cached = self._by_id.get(id(item))
        if cached is not None:
            return cached[1]
        names = request_variables(item)
        with self._lock:
            self._by_id[id(item)] = (item, names)
        return names


@dataclass
class CollectionUnit:
    """The requests of one top-level folder, with their plan indexes."""

    name: str
    items: list[tuple[int, RequestItem]]
    captures: set[str] = field(default_factory=set)
    uses: set[str] = field(default_factory=set)
    depends_on: set[str] = field(default_factory=set)


def plan_units(
    items: Sequence[RequestItem], *, offset: int = 0, variables: VariablesOf = request_variables
) -> list[CollectionUnit]:
    units: dict[str, CollectionUnit] = {}
    for index, item in enumerate(items, start=offset):
        key = unit_name(item)
        unit = units.setdefault(key, CollectionUnit(key, []))
        unit.items.append((index, item))
        unit.uses |= variables(item)
        unit.captures |= {c.variable for c in item.captures}
    ordered = list(units.values())
    for position, unit in enumerate(ordered):
        for earlier in ordered[:position]:
            if unit.uses & earlier.captures:
                unit.depends_on.add(earlier.name)
    return ordered


def preflight(
    items: Sequence[RequestItem], scopes: Scopes, *, variables: VariablesOf = request_variables
) -> None:
    """Refuse to start when a request uses a variable nothing defines or captures before it."""
    captured: set[str] = set()
    for item in items:
        for name in sorted(variables(item)):
            if name in captured or scopes.defined(name):
                continue
            raise UnresolvedVariableError(name, f"request '{item.full_name}'")
        captured |= {c.variable for c in item.captures}


def run_and_capture(
    exchange: ExchangeRunner,
    index: int,
    item: RequestItem,
    sender: Sender,
    scopes: Scopes,
    *,
    lock: threading.Lock | None = None,
    suite: str | None = None,
) -> ExchangeOutcome:
    """Run one collection request and keep what it captures for the requests after it.

    A failed request still captures when the server answered below 400 (a contract or test
    failure does not mean the id it returned is wrong); an error response captures nothing.
    """
    outcome = exchange.run(index, item, sender, scopes, suite=suite)
    response = outcome.response
    if response is not None and (
        outcome.result.verdict is Verdict.PASSED or response.status_code < 400
    ):
        captured = capture(response, item.captures)
        with lock if lock is not None else contextlib.nullcontext():
            scopes.local.update(captured)
    return outcome


class CollectionPass:
    """One pass over the plan (one iteration-data row): what its units share."""

    def __init__(
        self,
        *,
        exchange: ExchangeRunner,
        scopes: Scopes,
        sender_for: Callable[[str], Sender],
        suite_suffix: str = "",
    ) -> None:
        self.exchange = exchange
        self.scopes = scopes
        self.sender_for = sender_for
        self.suite_suffix = suite_suffix
        self.captured_lock = threading.Lock()

    def units(self, plan: Sequence[CollectionUnit]) -> list[FolderRun]:
        return [FolderRun(unit, self) for unit in plan]

    def suite(self, item: RequestItem) -> str | None:
        return item.suite + self.suite_suffix if self.suite_suffix else None


def collection_waves(
    items: Sequence[RequestItem],
    rows: Sequence[Mapping[str, str]],
    *,
    exchange: ExchangeRunner,
    scopes: Scopes,
    sender_for: Callable[[str], Sender],
    variables: VariablesOf = request_variables,
) -> Iterator[list[FolderRun]]:
    """The scheduler's waves for a plan: one pass, or one per iteration-data row (Newman's
    ``-d``). Rows run one after the other: each sets ``scopes.data`` when its wave is pulled."""
    passes = list(rows) or [{}]
    for iteration, row in enumerate(passes):
        scopes.data = dict(row)
        scopes.local.clear()  # captures do not leak from one iteration into the next
        run_pass = CollectionPass(
            exchange=exchange,
            scopes=scopes,
            sender_for=sender_for,
            suite_suffix=f" [{iteration + 1}]" if len(passes) > 1 else "",
        )
        yield run_pass.units(plan_units(items, offset=iteration * len(items), variables=variables))


class FolderRun:
    """A :class:`CollectionUnit` scheduled in one pass (a ``harness.scheduler.Unit``)."""

    def __init__(self, unit: CollectionUnit, run: CollectionPass) -> None:
        self.unit = unit
        self.run_pass = run
        self.name = unit.name
        self.majors = [index for index, _ in unit.items]
        self.depends_on = frozenset(unit.depends_on)

    def run(self, ctx: UnitContext) -> None:
        shared = self.run_pass
        sender = shared.sender_for(self.name)
        items = self.unit.items
        # An index loop, not a for-loop: a script's next-request (Newman's setNextRequest)
        # moves ``position`` within the unit when the collection runs as one unit.
        position = 0
        while position < len(items):
            index, item = items[position]
            if ctx.fatal is not None:
                # Every later request would be refused the same way: say so once per request,
                # without sending anything (and without hammering the token endpoint).
                for later_index, later in items[position:]:
                    ctx.emit(later_index, self._not_sent(later_index, later, FATAL_SKIP_MESSAGE))
                    ctx.close(later_index)
                return
            if ctx.stopping:
                return  # the scheduler closes the majors that will never have a result
            outcome = run_and_capture(
                shared.exchange,
                index,
                item,
                sender,
                shared.scopes,
                lock=shared.captured_lock,
                suite=shared.suite(item),
            )
            result = outcome.result
            if outcome.fatal and not ctx.claim_fatal(result.message):
                # Another unit met the same refusal at the same time (--workers): the
                # instruction is said once, by the first.
                result = (
                    self._not_sent(index, item, FATAL_SKIP_MESSAGE)
                    if not result.attempts
                    else dataclasses.replace(result, message=FATAL_SEEN_MESSAGE)
                )
            ctx.emit(index, result)
            ctx.close(index)
            position += 1

    def _not_sent(self, index: int, item: RequestItem, message: str) -> RequestResult:
        return RequestResult(
            suite=self.run_pass.suite(item) or item.suite,
            name=item.name,
            method=item.method,
            url=item.url.raw,
            index=index,
            verdict=Verdict.SKIPPED,
            cause=Cause.AUTH,
            message=message,
        )
