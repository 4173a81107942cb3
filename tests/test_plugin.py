"""The pytest plugin, driven through pytester: collection, markers, -k, xdist, JUnit, requests.

Runs are in-process (no interpreter start-up, and the parsed OpenAPI document is shared); the xdist
run is a real subprocess, as is one run in test_plugin_guest.py.
"""

from __future__ import annotations

import shutil
import xml.etree.ElementTree as ET

import pytest

from harness import paths

pytest_plugins = ["pytester"]

OPTS = ("--harness-no-contracts", "-p", "no:cacheprovider")

SCENARIOS = """
scenarios:
  - name: Booking smoke
    tags: [smoke]
    steps:
      - request: Patients/Create patient
        cleanup: Patients/Delete patient
      - request: Patients/Retrieve patient
  - name: Listing
    tags: [slow_ones]
    data: [{size: 1}, {size: 2}]
    steps:
      - request: Patients/List patients
        query: {page_size: "{{ size }}"}
"""

FAILING = """
name: Wrong gender
steps:
  - request: Patients/Create patient
    json: {gender: Female}
    cleanup: Patients/Delete patient
  - name: Read back
    request: Patients/Retrieve patient
    expect: {json: {gender: Male}}
  - request: Patients/List patients
"""


@pytest.fixture
def project(pytester: pytest.Pytester) -> pytest.Pytester:
    pytester.makeini("[pytest]\nharness_scenarios = scenarios\n")
    (pytester.path / "scenarios").mkdir()
    (pytester.path / "scenarios" / "flows.yaml").write_text(SCENARIOS)
    (pytester.path / "config").mkdir()
    (pytester.path / "config" / "settings.yaml").write_text("not: [a scenario\n")
    return pytester


def test_collects_each_scenario_run_and_only_scenario_yaml(project: pytest.Pytester) -> None:
    result = project.runpytest_inprocess(*OPTS, "--collect-only", "-q")
    result.stdout.fnmatch_lines(
        [
            "scenarios/flows.yaml::Booking smoke",
            "scenarios/flows.yaml::Listing [[]1[]]",
            "scenarios/flows.yaml::Listing [[]2[]]",
            "3 tests collected*",
        ]
    )
    assert "settings.yaml" not in result.stdout.str()


def test_tags_are_markers_and_k_selects(project: pytest.Pytester) -> None:
    by_marker = project.runpytest_inprocess(*OPTS, "--strict-markers", "-m", "smoke", "-q")
    by_marker.assert_outcomes(passed=1, deselected=2)
    by_name = project.runpytest_inprocess(*OPTS, "-k", "Listing and 2", "-q")
    by_name.assert_outcomes(passed=1, deselected=2)


def test_failure_text_and_junit_name_the_step_and_json_path(project: pytest.Pytester) -> None:
    (project.path / "scenarios" / "failing.yaml").write_text(FAILING)
    result = project.runpytest_inprocess(
        *OPTS, "scenarios/failing.yaml", "--junitxml=report.xml", "-x"
    )
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(
        [
            "Scenario 'Wrong gender' (*failing.yaml:2:1) failed at step 'Read back'*",
            "*FAIL  Read back: GET */api/patients/* -> 200",
            '*expect.json at $.gender: expected "Male"*',
            "*SKIP  Patients/List patients*",
            "*PASS  cleanup: Patients/Delete patient: DELETE * -> 204",
        ]
    )
    case = ET.parse(project.path / "report.xml").getroot().find(".//testcase")
    assert case is not None and case.get("name") == "Wrong gender"
    failure = case.find("failure")
    assert failure is not None and "expect.json at $.gender" in (failure.text or "")


# A real xdist session in subprocesses (~8 s): CI runs it with the slow tests.
@pytest.mark.slow
def test_xdist_runs_scenarios_and_collection_requests(project: pytest.Pytester) -> None:
    shutil.copy(paths.DEFAULT_COLLECTION, project.path / "api.postman_collection.json")
    # A real subprocess: xdist's controller and its workers each load the plugin afresh.
    result = project.runpytest_subprocess(
        *OPTS, "-n", "2", "--harness-collection", "api.postman_collection.json", "scenarios"
    )
    # 17 collection requests (chained within their folders) + 3 scenario runs.
    result.assert_outcomes(passed=20)


def test_bad_scenario_is_a_collection_error_with_its_line(project: pytest.Pytester) -> None:
    (project.path / "scenarios" / "broken.yaml").write_text(
        "scenarios:\n  - name: A\n    steps:\n      - request: Patients/Create patient\n"
        "        expect: {statuz: 201}\n"
    )
    result = project.runpytest_inprocess(*OPTS, "scenarios/broken.yaml")
    assert result.ret == pytest.ExitCode.INTERRUPTED
    result.stdout.fnmatch_lines(["*broken.yaml:5:18: unknown key 'statuz'*Did you mean 'status'?*"])


def test_pytest_and_cli_agree_on_the_shipped_suites(pytester: pytest.Pytester) -> None:
    # Contracts on, as a user runs them.
    result = pytester.runpytest_inprocess(
        "-p",
        "no:cacheprovider",
        str(paths.SCENARIOS_DIR),
        "--rootdir",
        str(paths.PROJECT_ROOT),
        "-q",
    )
    result.assert_outcomes(passed=6)


def test_pytest_replays_the_committed_cassettes_of_collection_and_scenarios(
    pytester: pytest.Pytester,
) -> None:
    result = pytester.runpytest_inprocess(
        "-p",
        "no:cacheprovider",
        "--rootdir",
        str(paths.PROJECT_ROOT),
        "--harness-target",
        "replay",
        "--harness-collection",
        str(paths.DEFAULT_COLLECTION),
        str(paths.SCENARIOS_DIR),
        "-q",
    )
    # 17 collection requests + 5 scenario runs; the scope scenario needs the sandbox itself.
    result.assert_outcomes(passed=22, skipped=1)
