"""The one run loop: units run in order or concurrently, results reach reporters in plan order.

Both ``harness run`` on a collection (a unit is a top-level folder, see
:mod:`harness.collection_plan`) and on scenarios (a unit is one scenario with one data row, see
:mod:`harness.scenarios.units`) go through :class:`Scheduler`.

Ordering: every unit owns one or more *majors* (a collection request's plan index, a scenario
run's position). Results are flushed to the reporters in major order; results within a major keep
their arrival order, and those of the head major stream out before it closes. ``result.index`` is
the emission position. Under ``--bail`` the first bad result sets :attr:`UnitContext.stopping`:
collection units check it before each request, scenario units before they start (so cleanups
always run). A refusal of the credentials themselves is *fatal*: no later pass runs.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable, Sequence, Set
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from typing import Protocol

from harness.results import NotRun, Reporter, RequestResult, RunInfo, RunSummary
from harness.sender import RunPace


class Unit(Protocol):
    """Work that the scheduler runs in one thread, emitting results for its majors."""

    @property
    def name(self) -> str: ...

    @property
    def majors(self) -> Sequence[int]: ...

    @property
    def depends_on(self) -> Set[str]: ...  # names of units of the same wave that must finish first

    def run(self, ctx: UnitContext) -> None: ...


class UnitContext:
    """What a running unit reports to, and what it checks before doing more work."""

    def __init__(self, scheduler: Scheduler, emitter: _OrderedEmitter) -> None:
        self._scheduler = scheduler
        self._emitter = emitter

    def emit(self, major: int, result: RequestResult) -> None:
        if self._scheduler.bail and result.verdict.is_bad:
            self._scheduler._stop.set()
        self._emitter.emit(major, result)

    def close(self, major: int) -> None:
        """No more results for ``major`` (closing a major twice is harmless)."""
        self._emitter.close(major)

    @property
    def stopping(self) -> bool:
        return self._scheduler._stop.is_set()

    @property
    def fatal(self) -> str | None:
        return self._scheduler.fatal

    @property
    def out_of_time(self) -> bool:
        """The run's ``--timeout`` has passed: what has not run is reported as not run."""
        pace = self._scheduler.pace
        return pace is not None and pace.expired

    def stop(self) -> None:
        """Start no more work: no later request or pass (a script's ``setNextRequest(null)``)."""
        self._scheduler._stop.set()

    def claim_fatal(self, message: str) -> bool:
        """Record that the run cannot go on; True for the first unit that says so."""
        return self._scheduler._claim_fatal(message)


class Scheduler:
    """Runs waves of units (one wave per iteration-data row, in turn) for one set of reporters."""

    def __init__(
        self,
        reporters: Sequence[Reporter],
        *,
        workers: int = 1,
        bail: bool = False,
        pace: RunPace | None = None,
    ) -> None:
        self.reporters = reporters
        self.pace = pace  # --timeout (the whole run) and --delay-request
        self.workers = max(1, workers)
        self.bail = bail
        # Set when DrChrono refuses the credentials themselves: nothing later can succeed.
        self.fatal: str | None = None
        self._stop = threading.Event()
        self._fatal_lock = threading.Lock()
        self._emitted = 0

    def run(
        self,
        info: RunInfo,
        waves: Iterable[Sequence[Unit]],
        *,
        on_done: Callable[[RunSummary], None] | None = None,
    ) -> RunSummary:
        """Start the reporters, run ``waves`` (pulled lazily: a wave may set up variables for its
        row), then let ``on_done`` complete the summary and finish the reporters."""
        summary = RunSummary()
        started = time.perf_counter()
        if self.pace is not None:
            self.pace.start()
        for reporter in self.reporters:
            reporter.start(info)
        for wave in waves:
            if self._stop.is_set() or self.fatal is not None:
                break
            emitter = _OrderedEmitter(
                [m for unit in wave for m in unit.majors], self._sink(summary)
            )
            ctx = UnitContext(self, emitter)
            if self.workers == 1 or len(wave) <= 1:
                for unit in wave:
                    self._run_unit(unit, ctx)
            else:
                self._run_concurrently(wave, ctx)
        summary.elapsed_s = time.perf_counter() - started
        summary.fatal = self.fatal
        if self.pace is not None and self.pace.expired and self.pace.time_limit_s is not None:
            summary.timed_out = (
                f"the run stopped at its --timeout of {self.pace.time_limit_s:g}s; "
                "what had not finished is reported as not run"
            )
        if on_done is not None:
            on_done(summary)
        if summary.timed_out is not None:
            summary.not_run.append(NotRun("the run", summary.timed_out))
        for reporter in self.reporters:
            reporter.finish(summary)
        return summary

    def _sink(self, summary: RunSummary) -> Callable[[int, RequestResult], None]:
        def deliver(major: int, result: RequestResult) -> None:
            result.index = self._emitted
            result.plan_position = major
            self._emitted += 1
            summary.add(result)
            for reporter in self.reporters:
                reporter.result(result)

        return deliver

    def _run_unit(self, unit: Unit, ctx: UnitContext) -> None:
        try:
            unit.run(ctx)
        finally:
            for major in unit.majors:
                ctx.close(major)

    def _run_concurrently(self, units: Sequence[Unit], ctx: UnitContext) -> None:
        done: set[str] = set()
        waiting = list(units)
        running: dict[Future[None], Unit] = {}
        with ThreadPoolExecutor(max_workers=self.workers, thread_name_prefix="unit") as pool:
            while waiting or running:
                for unit in [u for u in waiting if u.depends_on <= done]:
                    waiting.remove(unit)
                    running[pool.submit(self._run_unit, unit, ctx)] = unit
                if not running:  # a dependency that can never finish: cannot happen, be safe
                    break
                finished, _ = wait(list(running), return_when=FIRST_COMPLETED)
                for future in finished:
                    future.result()
                    done.add(running.pop(future).name)

    def _claim_fatal(self, message: str) -> bool:
        with self._fatal_lock:
            if self.fatal is not None:
                return False
            self.fatal = message
            return True


class _OrderedEmitter:
    """Hands results on in major order, holding back only those of majors after the head."""

    def __init__(
        self, majors: Iterable[int], deliver: Callable[[int, RequestResult], None]
    ) -> None:
        self._order = sorted(set(majors))
        self._buffers: dict[int, list[RequestResult]] = {m: [] for m in self._order}
        self._closed: set[int] = set()
        self._head = 0
        self._deliver = deliver
        self._lock = threading.Lock()

    def emit(self, major: int, result: RequestResult) -> None:
        with self._lock:
            self._buffers[major].append(result)
            self._flush()

    def close(self, major: int) -> None:
        with self._lock:
            self._closed.add(major)
            self._flush()

    def _flush(self) -> None:
        while self._head < len(self._order):
            major = self._order[self._head]
            buffer = self._buffers[major]
            for result in buffer:
                self._deliver(major, result)
            buffer.clear()
            if major not in self._closed:
                return
            self._head += 1
