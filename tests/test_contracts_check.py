"""ContractSet.check against the committed contracts: what a runner sees for each response."""

from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor

import pytest

from harness.contracts import ContractSet
from harness.paths import CONTRACTS_DIR
from tests.test_contracts_support import check

SSN = "987-65-4321"
NAME = "Zebulon Quixfeather"
PATIENT = {
    "id": 5,
    "first_name": "Ann",
    "last_name": "Lee",
    "gender": "Female",
    "doctor": 7,
    "date_of_birth": "1980-01-01",
    "patient_status": "A",
    "offices": [3],
}


@pytest.fixture(scope="module")
def cs() -> ContractSet:
    return ContractSet.load(CONTRACTS_DIR)


def test_matches_templates_ignoring_host_base_path_and_query(cs: ContractSet) -> None:
    for url in (
        "http://h/api/patients/5?x=1",
        "https://app.drchrono.com/api/patients/5",
        "http://127.0.0.1:9/proxy/v1/api/patients/5",
        "/api/patients/5",
    ):
        report = check(cs, "GET", url, 200, PATIENT)
        assert (report.operation, report.violations) == ("GET /api/patients/{id}", [])
    assert check(cs, "GET", "http://h/nothing/here", 200, {}).operation is None
    assert cs.required_scopes("GET", "/api/patients/5") == ["patients:read", "patients:write"]


def test_literal_path_wins_over_template(cs: ContractSet) -> None:
    assert (
        check(cs, "GET", "/api/users/current", 302, b"", content_type=None).operation
        == "GET /api/users/current"
    )
    assert check(cs, "GET", "/api/users/42", 200, {"id": 42}).operation == "GET /api/users/{id}"


def test_wrong_type_names_path_rule_and_types(cs: ContractSet) -> None:
    page = {
        "next": None,
        "previous": None,
        "results": [PATIENT, PATIENT, PATIENT, {**PATIENT, "date_of_birth": 19800101}],
    }
    [violation] = check(cs, "GET", "/api/patients", 200, page).violations
    assert (violation.json_path, violation.rule, violation.expected, violation.actual) == (
        "$.results[3].date_of_birth",
        "type",
        "string or null",
        "integer",
    )
    assert violation.message == "expected string or null, got integer"


def test_missing_required_field_and_removed_enum_value_fail(cs: ContractSet) -> None:
    body = {k: v for k, v in PATIENT.items() if k != "gender"} | {"patient_status": "Z"}
    report = check(cs, "GET", "/api/patients/5", 200, body)
    assert [(v.json_path, v.rule) for v in report.violations] == [
        ("$.patient_status", "enum"),
        ("$.gender", "required"),
    ] or sorted((v.json_path, v.rule) for v in report.violations) == [
        ("$.gender", "required"),
        ("$.patient_status", "enum"),
    ]
    enum = next(v for v in report.violations if v.rule == "enum")
    assert '"A", "I", "D"' in enum.expected


def test_unknown_field_is_drift_and_fails_only_when_strict(cs: ContractSet) -> None:
    page = {"next": None, "previous": None, "results": [{**PATIENT, "new_field": 1}] * 3}
    lenient = check(cs, "GET", "/api/patients", 200, page)
    assert lenient.ok and lenient.drift == ["$.results[0].new_field"]
    strict = check(cs, "GET", "/api/patients", 200, page, strict=True)
    assert not strict.ok
    assert [(v.json_path, v.rule) for v in strict.violations] == [
        ("$.results[0].new_field", "drift")
    ]


def test_undocumented_status_lists_documented_ones(cs: ContractSet) -> None:
    [violation] = check(cs, "GET", "/api/patients/5", 418, {"detail": "teapot"}).violations
    assert violation.rule == "status"
    assert violation.message == (
        "status 418 is not documented for GET /api/patients/{id}; "
        "documented: 200, 400, 401, 403, 404, 405, 429, 500"
    )


def test_trailing_slash_mismatch_is_a_violation_that_says_so(cs: ContractSet) -> None:
    report = check(cs, "GET", "/api/patients/5/", 200, PATIENT)
    assert report.operation == "GET /api/patients/{id}"
    [violation] = report.violations
    assert violation.rule == "trailing_slash"
    assert "/api/patients/5 instead of /api/patients/5/" in violation.message
    missing = check(cs, "POST", "https://drchrono.com/o/token", 400, {"error": "invalid_grant"})
    assert [v.rule for v in missing.violations] == ["trailing_slash"]


def test_malformed_json(cs: ContractSet) -> None:
    [violation] = check(cs, "GET", "/api/patients/5", 200, b'{"first_name": "Ann",').violations
    assert violation.rule == "json"
    assert violation.message.startswith("body is not valid JSON: ")


def test_wrong_content_type_and_undocumented_method(cs: ContractSet) -> None:
    report = check(
        cs, "GET", "/api/patients/5", 200, PATIENT, content_type="text/html; charset=utf-8"
    )
    assert [(v.rule, v.expected, v.actual) for v in report.violations] == [
        ("content_type", "application/json", "text/html")
    ]
    assert check(
        cs, "GET", "/api/patients/5", 200, PATIENT, content_type="application/json; charset=utf-8"
    ).ok
    [violation] = check(cs, "TRACE", "/api/patients/5", 200, PATIENT).violations
    assert violation.rule == "method" and "DELETE, GET, PATCH, PUT" in violation.message


def test_error_bodies(cs: ContractSet) -> None:
    assert check(
        cs,
        "GET",
        "/api/patients/5",
        401,
        {"detail": "Authentication credentials were not provided."},
    ).ok
    assert check(cs, "POST", "/api/patients", 400, {"non_field_errors": ["Bad."]}).ok
    assert check(cs, "POST", "/api/patients", 400, ["A bare message."]).ok
    bad = check(cs, "POST", "/api/patients", 400, {"gender": "required"})
    assert [(v.json_path, v.rule) for v in bad.violations] == [("$.gender", "type")]
    empty = check(cs, "DELETE", "/api/patients/5", 204, b"", content_type=None)
    assert empty.ok


def test_phi_never_appears_in_messages(cs: ContractSet) -> None:
    body = {
        **PATIENT,
        "first_name": [NAME],
        "gender": NAME,
        "social_security_number": {"v": SSN},
        "email": 5,
        "home_phone": True,
        "undocumented_alias": NAME,
    }
    for strict in (False, True):
        report = check(cs, "GET", "/api/patients/5", 200, body, strict=strict)
        assert len(report.violations) >= 5
        text = repr(report)
        assert SSN not in text and NAME not in text and "Zebulon" not in text
    malformed = check(cs, "GET", "/api/patients/5", 200, f'{{"ssn": "{SSN}", "name": "{NAME}",')
    assert SSN not in repr(malformed) and NAME not in repr(malformed)


def test_checks_are_consistent_across_threads(cs: ContractSet) -> None:
    bodies = [json.dumps({**PATIENT, "doctor": str(i)} if i % 2 else PATIENT) for i in range(40)]

    def run(body: str) -> list[tuple[str, str]]:
        report = check(cs, "GET", "/api/patients/5", 200, body)
        return [(v.json_path, v.rule) for v in report.violations]

    with ThreadPoolExecutor(max_workers=8) as pool:
        results = list(pool.map(run, bodies))
    assert results == [[("$.doctor", "type")] if i % 2 else [] for i in range(40)]


def test_operations_and_coverage(cs: ContractSet) -> None:
    operations = cs.operations()
    assert ("GET", "/api/patients/{id}", (200, 400, 401, 403, 404, 405, 429, 500)) in operations
    assert len(operations) == 330  # 327 documented + users/current + OAuth token and revoke
    coverage = cs.coverage(
        [
            ("GET /api/patients/{id}", 200),
            ("GET /api/patients/{id}", 404),
            ("GET /api/patients/{id}", 200),
            ("GET /api/patients/{id}", 418),
        ]
    )
    data = coverage.to_json()
    assert data["operations"] == {"exercised": 1, "total": 330}
    assert data["by_operation"]["GET /api/patients/{id}"]["exercised"] == [200, 404]
    assert data["undocumented"] == [{"operation": "GET /api/patients/{id}", "status": 418}]
    text = coverage.to_text()
    assert "GET /api/patients/{id}  2/8  [200]" in text
    assert text.endswith(
        f"Covered 1 of 330 operations and 2 of {data['statuses']['total']} documented statuses."
    )


def test_the_path_index_finds_templates_with_a_parameter_in_any_segment() -> None:
    """Templates are tried by segment count and resource name; parameters still match anywhere."""
    from harness.contracts.operations import PathMatcher

    matcher = PathMatcher(
        {
            "/api/{kind}/{id}": {"GET"},
            "/api/patients/{id}": {"GET", "PATCH"},
            "/api/patients/{id}/summary": {"GET"},
            "/api/users/current": {"GET"},
            "/o/token/": {"POST"},
        }
    )

    def found(path: str) -> tuple[str, bool] | None:
        match = matcher.match(path)
        return None if match is None else (match.template, match.trailing_slash_mismatch)

    assert found("/api/patients/5") == ("/api/patients/{id}", False)
    assert found("/api/doctors/5") == ("/api/{kind}/{id}", False)
    assert found("/api/patients/5/summary") == ("/api/patients/{id}/summary", False)
    assert found("/api/users/current") == ("/api/users/current", False)
    assert found("/api/users/current/") == ("/api/users/current", True)
    assert found("/o/token") == ("/o/token/", True)
    assert found("/api/{odd}/5") == ("/api/{kind}/{id}", False)
    assert found("/api/patients") is None
    assert found("/api/doctors/5/summary") is None
