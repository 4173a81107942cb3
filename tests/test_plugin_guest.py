"""The plugin is a guest in other projects' pytest runs: it changes nothing they did not opt into.

Each test is a small user project in a temp directory, run by pytest in-process (quick; each run
has its own config and plugin manager) and once by a real ``python -m pytest``.
"""

from __future__ import annotations

import copy
import textwrap
from pathlib import Path

import pytest

from harness import paths
from harness.cassettes import Scrubber, vcr_config_for
from tests.conftest import run_cli

pytest_plugins = ["pytester"]

# A plain pytest-recording test against a server the test starts itself.
PLAIN_VCR_TEST = """
import http.server
import threading

import httpx
import pytest


class Hello(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        body = b'{"hello": "world"}'
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


@pytest.fixture(scope="module")
def vcr_config():
    # The server's port changes from run to run: the project's own settings, which must count.
    return {"match_on": ["method", "path"]}


@pytest.fixture(scope="module")
def base_url():
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Hello)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()


@pytest.mark.vcr
def test_hello(base_url):
    assert httpx.get(base_url + "/hello").json() == {"hello": "world"}
"""


def test_a_plain_vcr_test_records_and_replays_with_the_plugin_installed(
    pytester: pytest.Pytester,
) -> None:
    pytester.makepyfile(test_plain=PLAIN_VCR_TEST)
    # A real `python -m pytest`: a fresh interpreter loads the plugin from its entry point.
    recorded = pytester.runpytest_subprocess("-p", "no:cacheprovider", "--record-mode=once")
    recorded.assert_outcomes(passed=1)
    cassette = pytester.path / "cassettes" / "test_plain" / "test_hello.yaml"
    # pytest-recording's own settings: its default YAML, the real host, nothing of ours.
    text = cassette.read_text()
    assert "uri: http://127.0.0.1:" in text and "harness" not in text

    replayed = pytester.runpytest_inprocess("-p", "no:cacheprovider", "--record-mode=none")
    replayed.assert_outcomes(passed=1)


def test_the_harness_scrubbing_is_an_opt_in_vcr_config(pytester: pytest.Pytester) -> None:
    opted_in = PLAIN_VCR_TEST.replace(
        'def vcr_config():\n    # The server\'s port changes from run to run: the project\'s own settings, which must count.\n    return {"match_on": ["method", "path"]}',
        "def vcr_config(drchrono_vcr_config):\n    return drchrono_vcr_config",
    )
    assert "drchrono_vcr_config" in opted_in
    pytester.makepyfile(test_plain=opted_in)
    result = pytester.runpytest_inprocess("-p", "no:cacheprovider", "--record-mode=once")
    result.assert_outcomes(passed=1)
    [cassette] = (pytester.path / "cassettes" / "test_plain").glob("test_hello.*")
    text = cassette.read_text()
    # The harness's readable serializer (JSON bodies pretty-printed) wrote it.
    assert '"hello": "world"' in text


def test_the_opt_in_vcr_config_deep_copies_to_the_same_scrubber() -> None:
    scrubber = Scrubber()
    config = vcr_config_for(scrubber)
    copied = copy.deepcopy(config)  # what pytest-recording does for every test
    assert copied["before_record_request"] is config["before_record_request"]


def test_unrelated_yaml_under_scenarios_is_not_collected(pytester: pytest.Pytester) -> None:
    (pytester.path / "scenarios").mkdir()
    # A load-test plan that is not a harness scenario at all.
    (pytester.path / "scenarios" / "load.yaml").write_text(
        "config:\n  target: http://localhost\n  phases: [{duration: 60, arrivalRate: 5}]\n"
    )
    pytester.makepyfile(test_ok="def test_ok():\n    assert True\n")
    result = pytester.runpytest_inprocess("-p", "no:cacheprovider")
    result.assert_outcomes(passed=1)
    assert result.ret == pytest.ExitCode.OK
    assert "load.yaml" not in result.stdout.str()


def readme_example() -> str:
    """The README's `drchrono` fixture example, as a user copies it."""
    readme = (paths.PROJECT_ROOT / "README.md").read_text()
    start = readme.index("```python\ndef test_patients_are_listed_in_pages(drchrono):")
    return readme[start + len("```python\n") : readme.index("```", start + 3)]


DRCHRONO_EXAMPLE = (
    readme_example()
    + """

def test_an_unexpected_status_fails_with_the_harness_report(drchrono):
    drchrono.get("/api/patients/999999999")
"""
)


def test_the_drchrono_fixture_runs_against_the_sandbox_and_records_beside_the_test(
    pytester: pytest.Pytester,
) -> None:
    (pytester.path / "tests").mkdir()
    (pytester.path / "tests" / "test_api.py").write_text(DRCHRONO_EXAMPLE)
    result = pytester.runpytest_inprocess("-p", "no:cacheprovider", "--record-mode=once")
    result.assert_outcomes(passed=2, failed=1)
    result.stdout.fnmatch_lines(
        ["*GET /api/patients/999999999: GET */api/patients/999999999 -> 404*", "*expected status*"]
    )
    cassette = pytester.path / "tests" / "cassettes" / "test_api"
    assert (cassette / "test-patients-are-listed-in-pages.yaml").is_file()

    replayed = pytester.runpytest_inprocess(
        "-p", "no:cacheprovider", "--harness-target", "replay", "-k", "listed or 404"
    )
    replayed.assert_outcomes(passed=2, deselected=1)


TAGGED = """
scenarios:
  - name: Tagged skip
    tags: [skip]
    steps:
      - request: Patients/List patients
  - name: Tagged xfail
    tags: [xfail, smoke]
    steps:
      - request: Patients/List patients
"""


def test_skip_and_xfail_tags_are_labels_in_pytest_as_in_the_cli(
    pytester: pytest.Pytester, tmp_path: Path
) -> None:
    scenario = pytester.path / "scenarios" / "tagged.yaml"
    scenario.parent.mkdir()
    scenario.write_text(textwrap.dedent(TAGGED))
    pytester.makeini("[pytest]\nharness_scenarios = scenarios\n")
    result = pytester.runpytest_inprocess("-p", "no:cacheprovider", "--harness-no-contracts")
    result.assert_outcomes(passed=2)
    by_tag = pytester.runpytest_inprocess("-p", "no:cacheprovider", "--co", "-q", "-k", "xfail")
    by_tag.stdout.fnmatch_lines(["scenarios/tagged.yaml::Tagged xfail", "1/2 tests collected*"])

    cli = run_cli("run", str(scenario), "--no-contracts", "--json", str(tmp_path / "s.json"))
    assert cli.code == 0, cli.stderr
    assert '"passed": 2' in (tmp_path / "s.json").read_text()
