"""The public API (docs/ARCHITECTURE.md, "Public API"): every exported name imports, and the
top-level list is the documented one."""

from __future__ import annotations

import importlib
import subprocess
import sys

import pytest

import harness

DOCUMENTED = {
    "harness": [
        "RunOptions",
        "open_session",
        "RunContext",
        "RunInfo",
        "Reporter",
        "RequestResult",
        "RunSummary",
        "Verdict",
        "Cause",
        "Check",
        "HarnessError",
        "InputError",
        "AuthError",
        "CassetteError",
        "__version__",
    ],
    "harness.reporters": ["ConsoleReporter", "JUnitReporter", "JsonReporter", "HtmlReporter"],
    "harness.contracts": ["ContractSet", "ContractReport", "Violation"],
    "harness.auth": ["TokenManager", "TokenStore", "OAuth2Settings", "TokenEndpointError"],
    "harness.cassettes": [
        "CassetteTransport",
        "RecordMode",
        "Scrubber",
        "vcr_config_for",
        "configure_vcr",
    ],
    "harness.scenarios": ["load_scenarios", "load_scenario_file", "ScenarioError"],
    "drchrono_sandbox": ["Sandbox", "SandboxConfig", "FaultKind", "SandboxError", "__version__"],
}


def test_the_top_level_api_is_the_documented_list() -> None:
    assert sorted(harness.__all__) == sorted(DOCUMENTED["harness"])


@pytest.mark.parametrize("package", sorted(DOCUMENTED))
def test_every_documented_and_exported_name_imports(package: str) -> None:
    module = importlib.import_module(package)
    exported = set(getattr(module, "__all__", []))
    assert set(DOCUMENTED[package]) <= exported
    for name in exported:
        assert getattr(module, name) is not None, f"{package}.{name}"


def test_importing_harness_loads_none_of_its_engines() -> None:
    # `harness --version` stays fast: the public names load on first use only.
    code = "import sys, harness; print(sorted(m for m in sys.modules if m.startswith('harness.')))"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[]"
