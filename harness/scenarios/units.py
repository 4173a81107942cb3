"""Scenarios as scheduler units: one scenario with one data row is one unit and one suite.

Scenarios never depend on each other, so under ``--workers`` they all may run at once; each
unit's steps run in order in its thread. A unit checks ``stopping`` (``--bail``) only before it
starts, so a scenario that started always runs its cleanups.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from harness.scenarios.model import Scenario
from harness.scenarios.steps import ScenarioExecutor
from harness.scheduler import UnitContext


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
