"""Scenarios as scheduler units: one scenario with one data row is one unit and one suite.

Scenarios never depend on each other, so under ``--workers`` they all may run at once; each
unit's steps run in order in its thread. A unit checks ``stopping`` (``--bail``) only before it
starts, so a scenario that started always runs its cleanups.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from harness.results import Cause, NotRun, Verdict
from harness.scenarios.model import Scenario, Step
from harness.scenarios.steps import ScenarioExecutor, not_sent
from harness.scheduler import UnitContext
from harness.sender import RUN_TIMEOUT_NOT_SENT


@dataclass(frozen=True)
class ScenarioUnit:
    scenario: Scenario
    suite: str
    row: Mapping[str, Any]  # the data row: typed template values
    position: int  # its place in file order: the major of all its results
    executor: ScenarioExecutor
    depends_on: frozenset[str] = field(default_factory=frozenset)

    @property
    def name(self) -> str:
        return self.suite

    @property
    def majors(self) -> Sequence[int]:
        return (self.position,)

    def run(self, ctx: UnitContext) -> None:
        if ctx.out_of_time:  # --timeout: each of its steps is reported, as not run
            for step in self.scenario.steps:
                skipped = not_sent(
                    self.suite, step, RUN_TIMEOUT_NOT_SENT, Verdict.SKIPPED, Cause.TIMEOUT
                )
                ctx.emit(self.position, skipped)
            return
        if ctx.stopping:
            return
        self.executor.run(
            self.scenario, self.suite, self.row, lambda result: ctx.emit(self.position, result)
        )


def scenario_units(scenarios: Sequence[Scenario], executor: ScenarioExecutor) -> list[ScenarioUnit]:
    """Every scenario once per data row, in file order."""
    runs = [(s, suite, row) for s in scenarios for suite, row in s.runs]
    return [
        ScenarioUnit(scenario, suite, row, position, executor)
        for position, (scenario, suite, row) in enumerate(runs)
    ]


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
