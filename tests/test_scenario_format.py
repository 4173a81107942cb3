"""Scenario files: every feature parses, every mistake is reported with file:line:column."""

from __future__ import annotations

import textwrap
from pathlib import Path

import httpx
import pytest

from harness import paths
from harness.collection import load_collection
from harness.scenarios import ScenarioError, check_names, load_scenario_file, load_scenarios
from harness.scenarios.expect import capture_values, check_header, mismatches
from harness.scenarios.model import CaptureSpec
from harness.scenarios.templates import TemplateProblem, date_range, render
from harness.variables import Scopes

COLLECTION = load_collection(paths.DEFAULT_COLLECTION)
ENVIRONMENT = {"base_url": "http://h", "doctor_id": "1", "client_id": "c", "client_secret": "s"}


def scopes() -> Scopes:
    return Scopes(collection=dict(COLLECTION.variables), environment=dict(ENVIRONMENT))


def write(tmp_path: Path, text: str, name: str = "s.yaml") -> Path:
    path = tmp_path / name
    path.write_text(textwrap.dedent(text).lstrip("\n"))
    return path


def load(tmp_path: Path, text: str):
    return load_scenario_file(write(tmp_path, text), COLLECTION)


def error(tmp_path: Path, text: str) -> ScenarioError:
    with pytest.raises(ScenarioError) as caught:
        load(tmp_path, text)
    return caught.value


FULL = """
scenarios:
  - name: Booking
    description: books
    tags: [smoke, appointments]
    targets: [sandbox]
    variables: {day: "{{ date(3) }}"}
    data:
      - {gender: Female}
      - {gender: Male}
    steps:
      - name: Create
        request: Patients/Create patient
        json: {gender: "{{ gender }}"}
        headers: {X-DRC-API-Version: v4}
        expect: {status: [201, 200], json: {gender: "{{ gender }}"}, headers: {Content-Type: json}, max_ms: 5000}
        capture: {patient_id: "json: id", where: "header: Location", code: status}
        cleanup: Patients/Delete patient
      - name: List
        request: Appointments/List appointments by date
        query: {date: "{{ day }}"}
        retry_until: {json: {results: []}, attempts: 3, delay_s: 0}
      - name: Inline
        method: post
        url: "{{ base_url }}/api/patients"
        json: {doctor: "{{ doctor_id | int }}"}
        auth: none
        expect: {status: 401, contract: false}
      - sandbox: issue_refresh_token
        args: {scopes: ["patients:read"]}
        save_as: token
      - request: Patients/List patients
        auth: {refresh_token: "{{ token }}"}
    cleanup:
      - Patients/Delete patient
"""


def test_full_example_parses(tmp_path: Path) -> None:
    [scenario] = load(tmp_path, FULL)
    assert scenario.tags == ("smoke", "appointments")
    assert scenario.targets == ("sandbox",)
    assert [suite for suite, _ in scenario.runs] == ["Booking [1]", "Booking [2]"]
    create, listing, inline, sandbox, limited = scenario.steps
    assert create.request is not None and create.request.full_name == "Patients/Create patient"
    assert create.expect.status == (201, 200) and create.expect.max_ms == 5000
    assert [c.source for c in create.capture] == ["json", "header", "status"]
    assert create.cleanup[0].request is not None
    assert listing.retry_until is not None and listing.retry_until.attempts == 3
    assert inline.inline is not None and inline.inline.method == "POST"
    assert inline.auth == "none" and inline.expect.contract is False
    assert sandbox.sandbox is not None and sandbox.sandbox.save_as == "token"
    assert limited.auth == {"refresh_token": "{{ token }}"}
    assert scenario.cleanup[0].name == "Patients/Delete patient"


def test_single_scenario_form_and_data_files(tmp_path: Path) -> None:
    (tmp_path / "rows.csv").write_text("first,last\nAnn,Lee\nBo,Kim\n")
    (tmp_path / "rows.json").write_text('[{"n": 1}]')
    [scenario] = load(
        tmp_path,
        """
        name: One
        data: rows.csv
        steps: [Patients/List patients]
        """,
    )
    assert scenario.rows == ({"first": "Ann", "last": "Lee"}, {"first": "Bo", "last": "Kim"})
    [json_rows] = load(tmp_path, "name: Two\ndata: rows.json\nsteps: [Patients/List patients]\n")
    assert json_rows.rows == ({"n": 1},)


@pytest.mark.parametrize(
    ("text", "line", "column", "words"),
    [
        ("scenarios:\n  - name: A\n    stepz: []\n", 3, 5, "unknown key 'stepz'"),
        (
            "scenarios:\n  - name: A\n    steps:\n      - request: Patients/Create patien\n",
            4,
            18,
            "Did you mean 'Patients/Create patient'",
        ),
        ("scenarios:\n  - steps: [Patients/List patients]\n", 2, 5, "needs 'name'"),
        (
            "scenarios:\n  - name: A\n    tags: [not a tag]\n    steps: [Patients/List patients]\n",
            3,
            12,
            "not a valid marker name",
        ),
        (
            "scenarios:\n  - name: A\n    steps:\n      - request: Patients/List patients\n"
            "        expect: {status: ok}\n",
            5,
            26,
            "must be an HTTP status",
        ),
        (
            "scenarios:\n  - name: A\n    steps:\n      - request: Patients/List patients\n"
            "        query: {page_size: '{{ 5 +  }}'}\n",
            5,
            28,
            "template syntax error",
        ),
        (
            "scenarios:\n  - name: A\n    steps:\n      - request: Patients/List patients\n"
            "        capture: {x: 'json: [[['}\n",
            5,
            22,
            "not a JMESPath expression",
        ),
        (
            "scenarios:\n  - name: A\n    steps:\n      - request: Patients/Create patient\n"
            "        retry_until: {status: 201}\n",
            5,
            9,
            "would resend a POST",
        ),
        (
            "scenarios:\n  - name: A\n    steps:\n      - sandbox: reboot\n",
            4,
            18,
            "sandbox action 'reboot'",
        ),
        ("scenarios:\n  - name: A\n    steps:\n      - name: x\n", 4, 9, "needs 'request"),
        (
            "scenarios:\n  - name: A\n    steps:\n      - request: Patients/List patients\n"
            "        path: {id: 1}\n",
            5,
            15,
            "no path variable :id",
        ),
        (
            "scenarios:\n  - name: A\n    steps:\n      - method: GET\n        url: /x\n"
            "        json: {}\n        body: x\n",
            7,
            9,
            "give one of json, form, body",
        ),
        (
            "scenarios:\n  - name: A\n    data: missing.csv\n    steps: [Patients/List patients]\n",
            3,
            11,
            "data file",
        ),
        ("scenarios:\n  - name: A\n    name: B\n", 3, 5, "appears twice"),
        ("scenarios:\n  - name: A\n    steps: [\n", 4, 1, "not valid YAML"),
        (
            "scenarios:\n  - name: A\n    steps:\n      - request: Patients/List patients\n"
            "        auth: sometimes\n",
            5,
            15,
            "'auth' of step",
        ),
    ],
)
def test_errors_name_file_line_and_column(
    tmp_path: Path, text: str, line: int, column: int, words: str
) -> None:
    problem = error(tmp_path, text)
    assert (problem.where.line, problem.where.column) == (line, column)
    assert str(problem).startswith(f"{tmp_path / 's.yaml'}:{line}:{column}: ")
    assert words in str(problem)


def test_duplicate_scenario_names_across_files(tmp_path: Path) -> None:
    write(tmp_path, "name: Same\nsteps: [Patients/List patients]\n", "a.yaml")
    (tmp_path / "b.yml").write_text("# again\n\nname: Same\nsteps: [Patients/List patients]\n")
    with pytest.raises(ScenarioError, match=r"b\.yml:3:1: scenario name 'Same' is already used"):
        load_scenarios([tmp_path], COLLECTION)


def test_undefined_names_are_found_before_sending(tmp_path: Path) -> None:
    [scenario] = load(
        tmp_path,
        """
        name: A
        steps:
          - request: Patients/List patients
          - request: Patients/Retrieve patient
        """,
    )
    with pytest.raises(
        ScenarioError, match=r"s\.yaml:4:5: step 'Patients/Retrieve patient'.*'patient_id'"
    ):
        check_names(scenario, scopes())
    [typo] = load(
        tmp_path,
        """
        name: B
        steps:
          - request: Patients/List patients
            query: {page_size: "{{ pagesize }}"}
        """,
    )
    with pytest.raises(ScenarioError, match=r"s\.yaml:3:5: .*'pagesize'"):
        check_names(typo, scopes())


def test_captures_and_cleanup_make_names_known(tmp_path: Path) -> None:
    [scenario] = load(
        tmp_path,
        """
        name: A
        steps:
          - request: Patients/Create patient
            capture: {pid: "json: id"}
            cleanup: {request: Patients/Delete patient, variables: {patient_id: "{{ pid }}"}}
          - request: Patients/Retrieve patient
        """,
    )
    check_names(scenario, scopes())


def test_templates_keep_types_and_fail_on_undefined_names() -> None:
    context = {"patient_id": 42, "name": "Ann"}
    assert render({"patient": "{{ patient_id }}", "n": "Dr {{ name }}"}, context) == {
        "patient": 42,
        "n": "Dr Ann",
    }
    assert render("{{ '7' | int }}", {}) == 7
    with pytest.raises(TemplateProblem, match="'nobody' is undefined"):
        render({"x": ["{{ nobody }}"]}, context)
    with pytest.raises(TemplateProblem, match="not allowed"):
        render("{{ name.__class__.__mro__ }}", context)
    first, last = date_range(0, 7).split("/")
    assert len(first) == 10 and first < last
    assert render(
        "{{ fake.first_name() }}",
        {"fake": __import__("harness.scenarios.templates", fromlist=["x"])._FAKE},
    )


def test_json_subset_reports_json_path_and_hides_phi() -> None:
    body = {"results": [{"id": "5", "first_name": "Zelda"}], "next": None}
    assert mismatches(body, {"results": [{"id": "5"}]}, "$", None) == []
    [(path, rule)] = mismatches(body, {"results": [{"id": 5}]}, "$", None)
    assert path == "$.results[0]" and "no element of the array (length 1)" in rule
    [(path, rule)] = mismatches(body, {"results": [], "next": "x"}, "$", None)
    assert path == "$.next" and 'expected "x", got null' in rule
    [(path, rule)] = mismatches({"first_name": "Zelda"}, {"first_name": "Ann"}, "$", None)
    assert path == "$.first_name" and "Zelda" not in rule
    [(path, rule)] = mismatches({}, {"gone": 1}, "$", None)
    assert path == "$.gone" and "missing" in rule


def test_headers_and_typed_captures() -> None:
    response = httpx.Response(
        201, json={"id": 9, "tags": ["a"]}, headers={"Location": "/api/patients/9"}
    )
    assert check_header(response.headers, "content-type", "JSON").passed
    assert not check_header(response.headers, "X-Missing", True).passed
    values, problems = capture_values(
        response,
        [
            CaptureSpec("pid", "json", "id"),
            CaptureSpec("where", "header", "Location"),
            CaptureSpec("code", "status"),
            CaptureSpec("nothing", "json", "missing"),
        ],
    )
    assert values == {"pid": 9, "where": "/api/patients/9", "code": 201}
    assert len(problems) == 1 and "capture 'nothing'" in problems[0].message
