"""``harness run scenarios/``: load every scenario first, then run them and stream the results.

Scenarios run concurrently under ``--workers`` (each in its own thread, steps in order); results
reach the reporters in file order whatever the completion order, so reports are deterministic.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from harness.results import NotRun, RequestResult, RunSummary, Verdict
from harness.runner import Reporter, RunInfo
from harness.scenarios.check import check_names
from harness.scenarios.execute import ScenarioExecutor
from harness.scenarios.loader import load_scenarios
from harness.scenarios.model import Scenario, Step


@dataclass(frozen=True)
class PlannedRun:
    """One scenario with one data row: a unit of work and a suite in the reports."""

    scenario: Scenario
    suite: str
    row: Mapping[str, Any]


def _steps(scenarios: Sequence[Scenario]) -> list[tuple[Scenario, Step, bool]]:
    """(scenario, step, whether it is a cleanup) for every step, cleanups included."""
    found = []
    for scenario in scenarios:
        for outer in scenario.steps:
            found.append((scenario, outer, False))
            found += [(scenario, inner, True) for inner in outer.cleanup]
        found += [(scenario, step, True) for step in scenario.cleanup]
    return found


def steps_not_run(scenarios: Sequence[Scenario]) -> list[NotRun]:
    """The steps' own ``test`` scripts, with ``--no-scripts``."""
    return [
        NotRun(f"scenario {scenario.name}", f"step '{step.name}': its test script (--no-scripts)")
        for scenario, step, _ in _steps(scenarios)
        if step.test
    ]


def scripts_turned_off(scenarios: Sequence[Scenario]) -> list[NotRun]:
    """Collection requests whose scripts a step does not run: ``scripts: false``, or a cleanup."""
    return [
        NotRun(
            f"request {step.request.full_name}",
            f"its scripts, in step '{step.name}' of scenario {scenario.name}: "
            + ("cleanups do not run them" if cleanup else "'scripts: false'"),
        )
        for scenario, step, cleanup in _steps(scenarios)
        if step.request is not None and step.request.scripts and (cleanup or not step.scripts)
    ]


def plan(scenarios: Sequence[Scenario]) -> list[PlannedRun]:
    return [PlannedRun(s, suite, row) for s in scenarios for suite, row in s.runs]


class SuiteEmitter:
    """Streams the results of run ``i`` once runs ``0..i-1`` are complete; numbers them."""

    def __init__(self, reporters: Sequence[Reporter], summary: RunSummary, count: int) -> None:
        self.reporters = reporters
        self.summary = summary
        self._buffers: list[list[RequestResult]] = [[] for _ in range(count)]
        self._done = [False] * count
        self._head = 0
        self._index = 0
        self._lock = threading.Lock()

    def emit(self, position: int, result: RequestResult) -> None:
        with self._lock:
            self._buffers[position].append(result)
            self._flush()

    def finish(self, position: int) -> None:
        with self._lock:
            self._done[position] = True
            self._flush()

    def _flush(self) -> None:
        while self._head < len(self._buffers):
            for result in self._buffers[self._head]:
                result.index = self._index
                self._index += 1
                self.summary.add(result)
                for reporter in self.reporters:
                    reporter.result(result)
            self._buffers[self._head].clear()
            if not self._done[self._head]:
                return
            self._head += 1


def run_scenarios(session: Any, sources: list[Path], reporters: Sequence[Reporter]) -> RunSummary:
    """Load, check and run the scenarios in ``sources`` against ``session``; report each step."""
    scenarios = load_scenarios(sources, session.collection)
    for scenario in scenarios:
        check_names(scenario, session.scopes)
    runs = plan(scenarios)
    executor = ScenarioExecutor(session)
    summary = RunSummary()
    started = time.perf_counter()
    planned = sum(len(r.scenario.steps) for r in runs)
    info = RunInfo(
        name=f"Scenarios ({', '.join(map(str, sources))})",
        target=session.target,
        planned=planned,
        source=", ".join(map(str, sources)),
    )
    for reporter in reporters:
        reporter.start(info)
    emitter = SuiteEmitter(reporters, summary, len(runs))
    stop = threading.Event()

    def run_one(position: int) -> None:
        planned_run = runs[position]
        try:
            if stop.is_set():
                return
            results = executor.run(
                planned_run.scenario,
                planned_run.suite,
                planned_run.row,
                lambda r: emitter.emit(position, r),
            )
            if session.options.bail and any(
                r.verdict in (Verdict.FAILED, Verdict.ERROR) for r in results
            ):
                stop.set()
        finally:
            emitter.finish(position)

    workers = max(1, int(session.options.workers))
    if workers == 1 or len(runs) <= 1:
        for position in range(len(runs)):
            run_one(position)
    else:
        with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="scenario") as pool:
            for future in [pool.submit(run_one, i) for i in range(len(runs))]:
                future.result()
    summary.elapsed_s = time.perf_counter() - started
    summary.coverage = session.coverage(executor.exercised)
    # The collection requests the steps send: their scripts' unread lines did not run either.
    used = [
        step.request
        for scenario in scenarios
        for outer in scenario.steps
        for step in (outer, *outer.cleanup)
        if step.request is not None
    ]
    # --- Postman scripts: what did not run ---
    if executor.scripts is None:  # --no-scripts: the requests' scripts and the steps' tests
        summary.not_run = session.collection.not_run(used) + steps_not_run(scenarios)
    else:
        summary.not_run = executor.scripts.not_run + scripts_turned_off(scenarios)
    for reporter in reporters:
        reporter.finish(summary)
    return summary
