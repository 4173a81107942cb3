"""A plan of collection requests cut into units that the scheduler runs.

A unit is the requests of one top-level folder, which stay in order because they chain (create,
then read back what was created). A unit depends on an earlier one when it uses a variable that
the earlier one captures; independent units may run concurrently under ``--workers``. Each request
is one *major* of the ordered output (its plan index), so results come out in plan order.

When a script of the plan may call ``setNextRequest``, the whole plan is one unit that walks its
requests in Newman's order (:class:`~harness.scripting.hooks.ScriptedOrder`), one at a time even
with ``--workers``: a jump may go to any folder, and to a request already run.
"""

from __future__ import annotations

import contextlib
import dataclasses
import threading
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field

from harness.checks import capture
from harness.collection import RequestItem
from harness.exchange import ExchangeOutcome, ExchangeRunner
from harness.results import Cause, Check, RequestResult, Verdict
from harness.scheduler import UnitContext
from harness.scripting.hooks import ScriptedOrder, redirects
from harness.sender import RUN_TIMEOUT_NOT_SENT, Sender
from harness.sharding import Shard, ShardRun, with_dependencies
from harness.variables import Scopes, placeholders

FATAL_SKIP_MESSAGE = "not sent: the run's credentials cannot be used (see the first auth error)"
FATAL_SEEN_MESSAGE = "the run's credentials cannot be used (see the first auth error)"
ROOT_UNIT = "(root)"
SCRIPTED_UNIT = "(in script order)"  # the one unit of a plan whose scripts set the next request

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
    # Every request deletes a record by an id the units it depends on captured (a Teardown
    # folder): it runs wherever they run, see harness.sharding.with_dependencies.
    cleans_up: bool = False


def plan_units(
    items: Sequence[RequestItem],
    *,
    offset: int = 0,
    variables: VariablesOf = request_variables,
    one_unit: bool = False,
) -> list[CollectionUnit]:
    """The plan cut into units per top-level folder, or as one unit (``one_unit``: the scripts
    set the order)."""
    units: dict[str, CollectionUnit] = {}
    deletes: dict[str, list[frozenset[str]]] = {}  # per unit: the variables of each DELETE
    for index, item in enumerate(items, start=offset):
        key = SCRIPTED_UNIT if one_unit else unit_name(item)
        unit = units.setdefault(key, CollectionUnit(key, []))
        unit.items.append((index, item))
        uses = variables(item)
        unit.uses |= uses
        unit.captures |= item.variables_set
        deletes.setdefault(key, []).append(uses if item.method == "DELETE" else frozenset())
    ordered = list(units.values())
    for position, unit in enumerate(ordered):
        for earlier in ordered[:position]:
            if unit.uses & earlier.captures:
                unit.depends_on.add(earlier.name)
        made_before = set().union(
            *(e.captures for e in ordered[:position] if e.name in unit.depends_on)
        )
        unit.cleans_up = bool(unit.depends_on) and all(
            names & made_before for names in deletes[unit.name]
        )
    return ordered


def shard_units(
    units: Sequence[CollectionUnit], shard: Shard | None
) -> list[ShardRun[CollectionUnit]]:
    """The folders ``shard`` runs: its own, the folders they read captured values from, and
    the clean-up folders of those (see :func:`harness.sharding.with_dependencies`)."""
    return with_dependencies(
        units,
        shard,
        key=lambda unit: unit.name,
        depends_on=lambda unit: unit.depends_on,
        cleans_up=lambda unit: unit.cleans_up,
    )


class DependencyRuns:
    """What a shard ran only for its own folders' dependencies: reported by the shard that owns
    those folders, not by this one (a merged report holds each result once); this one only
    warns of the requests that did not pass."""

    def __init__(self) -> None:
        self.failed: list[str] = []  # "Setup/Create patient (unexpected status)"
        self._lock = threading.Lock()

    def add(self, result: RequestResult) -> None:
        if result.verdict.is_bad:
            with self._lock:
                self.failed.append(f"{result.suite}/{result.name} ({result.cause.value})")


def dependency_notice(shard: Shard | None, folders: Sequence[str]) -> str:
    """What the console says of the folders a shard runs but does not own."""
    shown = ", ".join(f"'{name}'" for name in folders[:5])
    more = f" and {len(folders) - 5} more" if len(folders) > 5 else ""
    return (
        f"shard {shard} also runs {shown}{more}, which its own folders need (they read what "
        "another folder captures; a clean-up folder deletes what that one made). Their "
        "results are left out of this shard's reports: the shard that owns a folder reports it."
    )


def dependency_failures(runs: DependencyRuns) -> str:
    """The warning after a shard whose dependency folders did not all pass: its own folders'
    failures may come from there."""
    shown = "; ".join(runs.failed[:3])
    more = f" and {len(runs.failed) - 3} more" if len(runs.failed) > 3 else ""
    return (
        f"warning: {len(runs.failed)} request{'s' if len(runs.failed) > 1 else ''} this shard "
        f"ran only for its folders' dependencies did not pass: {shown}{more}. They are not "
        "in this shard's reports (the shard that owns them reports them), but this shard's "
        "failures may come from them."
    )


@dataclass(frozen=True)
class UnresolvedName:
    """A variable nothing defines and no request sets before it is used."""

    name: str
    requests: tuple[str, ...]  # the requests that use it, by full name, in plan order


def preflight(
    items: Sequence[RequestItem], scopes: Scopes, *, variables: VariablesOf = request_variables
) -> list[UnresolvedName]:
    """The variables requests use that nothing defines or captures before them, each once.

    Newman sends such a placeholder as written; a script may still set it at run time."""
    captured: set[str] = set()
    users: dict[str, list[str]] = {}
    for item in items:
        for name in sorted(variables(item)):
            # A name the request's own pre-request scripts may set counts too.
            if name in captured or name in item.variables_set or scopes.defined(name):
                continue
            users.setdefault(name, []).append(item.full_name)
        captured |= item.variables_set
    return [UnresolvedName(name, tuple(dict.fromkeys(uses))) for name, uses in users.items()]


def unresolved_warning(unresolved: Sequence[UnresolvedName]) -> str:
    """One paragraph naming every unresolved variable once, and the requests that use it."""
    shown = []
    for entry in unresolved:
        requests = ", ".join(f"'{r}'" for r in entry.requests[:3])
        more = len(entry.requests) - 3
        shown.append(
            f"{{{{{entry.name}}}}} (used by {requests}{f' and {more} more' if more > 0 else ''})"
        )
    one = len(unresolved) == 1
    them, they = ("it", "it is") if one else ("them", "they are")
    return (
        f"{len(unresolved)} variable{'' if one else 's'} no environment, collection, globals "
        f"or data file defines: {'; '.join(shown)}. Unless a script sets {them} first, {they} "
        f"sent as written, '{{{{name}}}}', as Newman does. Define {them} (-e, --env-var "
        "NAME=VALUE, DRCHRONO_NAME) or run with --strict-variables to refuse such a run."
    )


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
    When scripts run, they set the variables themselves and the one-line captures are not used.
    """
    outcome = exchange.run(index, item, sender, scopes, suite=suite)
    response = outcome.response
    if (
        exchange.scripts is None
        and response is not None
        and (outcome.result.verdict is Verdict.PASSED or response.status_code < 400)
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
        scripted: bool = False,
        dependency_runs: DependencyRuns | None = None,
    ) -> None:
        self.exchange = exchange
        self.scopes = scopes
        self.sender_for = sender_for
        self.suite_suffix = suite_suffix
        self.scripted = scripted  # one unit, in the order the scripts set
        self.captured_lock = threading.Lock()
        self.dependency_runs = dependency_runs or DependencyRuns()

    def units(self, plan: Sequence[ShardRun[CollectionUnit]]) -> list[FolderRun]:
        folders = [FolderRun(run.unit, self, owned=run.owned) for run in plan]
        # A clean-up folder deletes what the folders it depends on made: under --workers it
        # also waits for every folder before it that uses those records.
        for position, folder in enumerate(folders):
            if folder.unit.cleans_up:
                folder.depends_on |= {
                    other.name
                    for other in folders[:position]
                    if other.unit.depends_on & folder.unit.depends_on
                }
        return folders

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
    shard: Shard | None = None,
    dependency_runs: DependencyRuns | None = None,
) -> Iterator[list[FolderRun]]:
    """The scheduler's waves for a plan: one pass, or one per iteration-data row (Newman's
    ``-d``). Rows run one after the other: each sets ``scopes.data`` when its wave is pulled.
    With ``shard``, each wave holds that shard's units and their dependencies, under their plan
    indexes; the dependencies' results go to ``dependency_runs``, not to the reporters."""
    passes = list(rows) or [{}]
    scripted = is_scripted(exchange, items)
    scripts = exchange.scripts
    for iteration, row in enumerate(passes):
        scopes.data = dict(row)
        scopes.local.clear()  # captures do not leak from one iteration into the next
        if scripts is not None:  # pm.info of this pass
            scripts.iteration, scripts.iteration_count = iteration, len(passes)
        run_pass = CollectionPass(
            exchange=exchange,
            scopes=scopes,
            sender_for=sender_for,
            suite_suffix=f" [{iteration + 1}]" if len(passes) > 1 else "",
            scripted=scripted,
            dependency_runs=dependency_runs,
        )
        plan = plan_units(
            items, offset=iteration * len(items), variables=variables, one_unit=scripted
        )
        yield run_pass.units(shard_units(plan, shard))


def is_scripted(exchange: ExchangeRunner, items: Sequence[RequestItem]) -> bool:
    """Whether the plan runs as one unit in the order its scripts set (``setNextRequest``)."""
    return exchange.scripts is not None and redirects(items)


class FolderRun:
    """A :class:`CollectionUnit` scheduled in one pass (a ``harness.scheduler.Unit``). A unit
    the shard does not own (``owned`` False) runs for its dependants' sake: its results go to
    the pass's :class:`DependencyRuns`, not to the reporters."""

    def __init__(self, unit: CollectionUnit, run: CollectionPass, *, owned: bool = True) -> None:
        self.unit = unit
        self.run_pass = run
        self.owned = owned
        self.name = unit.name
        self.majors = [index for index, _ in unit.items]
        self.depends_on = frozenset(unit.depends_on)

    def _emit(self, ctx: UnitContext, major: int, result: RequestResult) -> None:
        if self.owned:
            ctx.emit(major, result)
        else:
            self.run_pass.dependency_runs.add(result)

    def run(self, ctx: UnitContext) -> None:
        shared = self.run_pass
        items = self.unit.items
        # In script order a request may run twice or not at all: its results all go to the
        # unit's first major, in the order they come (the unit is alone in its wave).
        order = ScriptedOrder([item for _, item in items]) if shared.scripted else None

        def major(index: int) -> int:
            return self.majors[0] if order is not None else index

        # An index loop, not a for-loop: a script's next-request (Newman's setNextRequest)
        # moves ``position`` within the unit when the collection runs as one unit.
        position: int | None = 0 if items else None
        while position is not None:
            index, item = items[position]
            if ctx.fatal is not None:
                # Every later request would be refused the same way: say so once per request,
                # without sending anything (and without hammering the token endpoint).
                for later_index, later in items[position:]:
                    self._emit(
                        ctx,
                        major(later_index),
                        self._not_sent(later_index, later, FATAL_SKIP_MESSAGE),
                    )
                    ctx.close(major(later_index))
                return
            if ctx.out_of_time:  # --timeout: every later request is reported, as not run
                for later_index, later in items[position:]:
                    not_run = self._not_sent(
                        later_index, later, RUN_TIMEOUT_NOT_SENT, cause=Cause.TIMEOUT
                    )
                    self._emit(ctx, major(later_index), not_run)
                    ctx.close(major(later_index))
                return
            if ctx.stopping:
                return  # the scheduler closes the majors that will never have a result
            outcome = run_and_capture(
                shared.exchange,
                index,
                item,
                shared.sender_for(unit_name(item)),  # one sender (cassette) per folder
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
            if order is None:
                self._emit(ctx, index, result)
                ctx.close(index)
                position = position + 1 if position + 1 < len(items) else None
                continue
            step = order.after(position, outcome.next_request)
            if step.note:
                result.console.append(step.note)
            if step.failed:
                result.checks.append(Check("setNextRequest", False, step.note))
                result.verdict, result.cause = Verdict.FAILED, Cause.ASSERTION
            self._emit(ctx, major(index), result)
            if order.stop_run:
                ctx.stop()
            position = step.position

    def _not_sent(
        self, index: int, item: RequestItem, message: str, *, cause: Cause = Cause.AUTH
    ) -> RequestResult:
        return RequestResult(
            suite=self.run_pass.suite(item) or item.suite,
            name=item.name,
            method=item.method,
            url=item.url.raw,
            index=index,
            verdict=Verdict.SKIPPED,
            cause=cause,
            message=message,
        )
