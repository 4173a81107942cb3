"""YAML scenarios: DrChrono workflows as steps that reuse the collection's requests.

    scenarios = load_scenarios([Path("scenarios")], collection)     # errors carry file:line:col
    summary = session.run_scenarios([Path("scenarios")], reporters)   # harness.session

See docs/SCENARIOS.md for the format.
"""

from harness.scenarios.check import check_names
from harness.scenarios.loader import discover, load_scenario_file, load_scenarios
from harness.scenarios.model import Expectation, Scenario, Step
from harness.scenarios.source import Location, ScenarioError
from harness.scenarios.steps import ScenarioExecutor

__all__ = [
    "Expectation",
    "Location",
    "Scenario",
    "ScenarioError",
    "ScenarioExecutor",
    "Step",
    "check_names",
    "discover",
    "load_scenario_file",
    "load_scenarios",
]
