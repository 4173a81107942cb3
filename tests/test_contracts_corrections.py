"""Every correction in contracts/corrections.yaml is exercised here.

For each one: what the published document does with a realistic response (reject it, wrongly
accept it, or refuse to convert at all) and what the corrected contract does instead.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from harness.contracts import ContractSet, build_contracts
from harness.contracts.corrections import apply_corrections
from harness.errors import InputError
from tests.test_contracts_support import check, contracts, corrections

USER = {
    "id": 11,
    "username": "drjane",
    "doctor": 7,
    "practice_group": 12345,
    "is_doctor": True,
    "is_staff": False,
    "permissions": {"manage_patients": True},
}
APPOINTMENT_BREAK = {
    "id": "1001",
    "doctor": 7,
    "office": 3,
    "exam_room": 1,
    "patient": None,
    "scheduled_time": "2021-02-14T13:40:39",
    "duration": 30,
    "status": "",
}


def rules(report: object) -> list[tuple[str, str]]:
    return [(v.json_path, v.rule) for v in report.violations]  # type: ignore[attr-defined]


def refuses(
    problem: str, pointer: str, corrected: Callable[[ContractSet], None] | None = None
) -> Callable[[frozenset[str]], None]:
    """The published document cannot be converted: the importer names the place and problem.

    ``corrected`` then shows real traffic passing (and broken traffic failing) once corrected.
    """

    def run(disabled: frozenset[str]) -> None:
        with pytest.raises(InputError) as err:
            contracts(disabled)
        assert problem in str(err.value)
        assert f"at JSON pointer {pointer}" in str(err.value)
        if corrected is not None:
            corrected(contracts())

    return run


def compare(
    published: Callable[[ContractSet], None], corrected: Callable[[ContractSet], None]
) -> Callable[[frozenset[str]], None]:
    def run(disabled: frozenset[str]) -> None:
        published(contracts(disabled))
        corrected(contracts())

    return run


def _clinical_notes_pagination(cs: ContractSet) -> None:
    page: dict[str, Any] = {
        "status": "Complete",
        "uuid": "u-1",
        "pagination": {"count": 3, "pages": 1, "page": 1},
        "results": [],
    }
    assert check(cs, "GET", "/api/clinical_notes_list", 200, page).ok
    page["pagination"]["count"] = "3"
    assert rules(check(cs, "GET", "/api/clinical_notes_list", 200, page)) == [
        ("$.pagination.count", "type")
    ]


def _recurring_days(cs: ContractSet) -> None:
    appt = {**APPOINTMENT_BREAK, "recurring_days": ["Monday", "Friday"]}
    assert check(cs, "GET", "/api/appointments/1001", 200, appt).ok


def _work_schedule(cs: ContractSet) -> None:
    doctor: dict[str, Any] = {"id": 7, "doctor_work_schedule": None}
    assert check(cs, "GET", "/api/doctors/7", 200, doctor).ok
    doctor["doctor_work_schedule"] = "weekdays"
    assert rules(check(cs, "GET", "/api/doctors/7", 200, doctor)) == [
        ("$.doctor_work_schedule", "type")
    ]


def _pharmacies(cs: ContractSet) -> None:
    patient = {"id": 5, "gender": "Female", "doctor": 7, "preferred_pharmacies": ["1234567"]}
    assert check(cs, "GET", "/api/patients/5", 200, patient).ok


def _user_field(name: str, value: object) -> Callable[[frozenset[str]], None]:
    def published(cs: ContractSet) -> None:
        assert (f"$.{name}", "type") in rules(
            check(cs, "GET", "/api/users/11", 200, {**USER, name: value})
        )

    def corrected(cs: ContractSet) -> None:
        assert check(cs, "GET", "/api/users/11", 200, {**USER, name: value}).ok

    return compare(published, corrected)


def _doctor_group_published(cs: ContractSet) -> None:
    body = {"id": 7, "practice_group": 12345}
    assert ("$.practice_group", "type") in rules(check(cs, "GET", "/api/doctors/7", 200, body))


def _doctor_group_corrected(cs: ContractSet) -> None:
    assert check(cs, "GET", "/api/doctors/7", 200, {"id": 7, "practice_group": 12345}).ok
    body = {"id": 7, "practice_group": "12345"}
    assert ("$.practice_group", "type") in rules(check(cs, "GET", "/api/doctors/7", 200, body))


def _doctor_published(cs: ContractSet) -> None:
    assert rules(check(cs, "GET", "/api/offices/3", 200, {"id": 3, "doctor": 7})) == [
        ("$.doctor", "type")
    ]


def _doctor_corrected(cs: ContractSet) -> None:
    assert check(cs, "GET", "/api/offices/3", 200, {"id": 3, "doctor": 7}).ok
    assert rules(check(cs, "GET", "/api/offices/3", 200, {"id": 3, "doctor": "7"})) == [
        ("$.doctor", "type")
    ]


def _break_published(cs: ContractSet) -> None:
    assert ("$.patient", "type") in rules(
        check(cs, "GET", "/api/appointments/1001", 200, APPOINTMENT_BREAK)
    )


def _break_corrected(cs: ContractSet) -> None:
    assert check(cs, "GET", "/api/appointments/1001", 200, APPOINTMENT_BREAK).ok
    # Null is allowed, other types still are not; id is never null.
    bad = {**APPOINTMENT_BREAK, "patient": "12", "id": None}
    assert sorted(rules(check(cs, "GET", "/api/appointments/1001", 200, bad))) == [
        ("$.id", "type"),
        ("$.patient", "type"),
    ]


BROKEN_PAGE = {
    "previous": None,
    "next": None,
    "results": [{"id": 5, "gender": "Male", "doctor": 7, "date_of_birth": 19800101}],
}


def _envelope_published(cs: ContractSet) -> None:
    # The published envelope says 'data' and requires nothing: the broken item is never looked
    # at, and the null 'next'/'previous' of every last page fail instead.
    report = check(cs, "GET", "/api/patients", 200, BROKEN_PAGE)
    assert rules(report) == [("$.next", "type"), ("$.previous", "type")]
    assert report.drift == ["$.results"]


def _envelope_corrected(cs: ContractSet) -> None:
    assert rules(check(cs, "GET", "/api/patients", 200, BROKEN_PAGE)) == [
        ("$.results[0].date_of_birth", "type")
    ]
    assert rules(check(cs, "GET", "/api/patients", 200, {"data": [], "next": None})) == [
        ("$.results", "required")
    ]
    good = {
        "previous": None,
        "next": "https://app.drchrono.com/api/patients?cursor=x",
        "results": [{"id": 5, "gender": "Male", "doctor": 7}],
    }
    assert check(cs, "GET", "/api/patients", 200, good).ok


def _error_bodies_published(cs: ContractSet) -> None:
    html = check(cs, "GET", "/api/patients/5", 404, b"<html>oops</html>", content_type="text/html")
    assert html.ok  # the published 404 has no schema: anything passes


def _error_bodies_corrected(cs: ContractSet) -> None:
    assert check(cs, "GET", "/api/patients/5", 404, {"detail": "Not found."}).ok
    html = check(cs, "GET", "/api/patients/5", 404, b"<html>oops</html>", content_type="text/html")
    assert [v.rule for v in html.violations] == ["content_type", "json"]
    assert rules(check(cs, "GET", "/api/patients/5", 404, {"message": "Not found."})) == [
        ("$.detail", "required")
    ]
    assert check(cs, "POST", "/api/patients", 400, {"gender": ["This field is required."]}).ok
    assert check(cs, "POST", "/api/yellow_notepad", 400, ["template_id must be an integer"]).ok


def _status_missing_then_ok(
    method: str, url: str, status: int, body: object, content_type: str | None = "application/json"
) -> Callable[[frozenset[str]], None]:
    def published(cs: ContractSet) -> None:
        report = check(cs, method, url, status, body, content_type=content_type)
        assert [v.rule for v in report.violations] == ["status"]

    def corrected(cs: ContractSet) -> None:
        assert check(cs, method, url, status, body, content_type=content_type).ok

    return compare(published, corrected)


def _no_content_corrected(cs: ContractSet) -> None:
    assert check(cs, "PUT", "/api/appointments/1001", 204, b"", content_type=None).ok
    report = check(cs, "PUT", "/api/appointments/1001", 204, {"id": "1001"})
    assert [v.rule for v in report.violations] == ["empty_body"]


def _redirect_published(cs: ContractSet) -> None:
    report = check(cs, "GET", "/api/users/current", 302, b"", content_type=None)
    assert report.operation == "GET /api/users/{id}"
    assert [v.rule for v in report.violations] == ["status"]


def _redirect_corrected(cs: ContractSet) -> None:
    report = check(cs, "GET", "/api/users/current", 302, b"", content_type=None)
    assert (report.operation, report.ok) == ("GET /api/users/current", True)
    assert cs.required_scopes("GET", "https://app.drchrono.com/api/users/current") == ["user:read"]


TOKEN = {
    "access_token": "a" * 30,
    "token_type": "Bearer",
    "expires_in": 172800,
    "scope": "patients:read",
    "refresh_token": "r" * 30,
}


def _token_published(cs: ContractSet) -> None:
    assert check(cs, "POST", "https://drchrono.com/o/token/", 200, TOKEN).operation is None


def _token_corrected(cs: ContractSet) -> None:
    url = "https://drchrono.com/o/token/"
    assert check(cs, "POST", url, 200, TOKEN).ok
    missing = {k: v for k, v in TOKEN.items() if k != "access_token"}
    assert rules(check(cs, "POST", url, 200, missing)) == [("$.access_token", "required")]
    for status in (400, 401):
        assert check(cs, "POST", url, status, {"error": "invalid_grant"}).ok
    assert rules(check(cs, "POST", url, 400, {"error": "bad_thing"})) == [("$.error", "enum")]


def _revoke_published(cs: ContractSet) -> None:
    assert check(cs, "POST", "https://drchrono.com/o/revoke_token/", 200, b"").operation is None


def _revoke_corrected(cs: ContractSet) -> None:
    url = "https://app.drchrono.com/o/revoke_token/"
    assert check(cs, "POST", url, 200, b"", content_type="text/html").ok
    assert [v.rule for v in check(cs, "POST", url, 200, {"ok": True}).violations] == ["empty_body"]


def _user_with_only_an_id(cs: ContractSet) -> None:
    assert check(cs, "GET", "/api/users/11", 200, {"id": 11}).ok  # nothing else is required


NOTE = {"appointment": "1001", "patient": 80001201, "archived": False}


def _patient_fk_published(cs: ContractSet) -> None:
    assert rules(check(cs, "GET", "/api/clinical_notes/1001", 200, NOTE)) == [("$.patient", "type")]


def _patient_fk_corrected(cs: ContractSet) -> None:
    assert check(cs, "GET", "/api/clinical_notes/1001", 200, NOTE).ok
    assert rules(
        check(cs, "GET", "/api/clinical_notes/1001", 200, {**NOTE, "patient": "80001201"})
    ) == [("$.patient", "type")]


OFFICE = {
    "id": 3,
    "doctor": 7,
    "name": "Main Office",
    "exam_rooms": [
        {"index": 1, "name": "Exam 1", "online_scheduling": True},
        {"index": 2, "name": "Exam 2", "online_scheduling": False},
    ],
}


def _exam_rooms_published(cs: ContractSet) -> None:
    assert rules(check(cs, "GET", "/api/offices/3", 200, OFFICE)) == [("$.exam_rooms", "type")]


def _exam_rooms_corrected(cs: ContractSet) -> None:
    assert check(cs, "GET", "/api/offices/3", 200, OFFICE).ok
    page = {"previous": None, "next": None, "results": [OFFICE]}
    assert check(cs, "GET", "/api/offices", 200, page).ok
    # Appointments name a room by its index: a room without one, or a text index, still fails.
    rooms = [{"name": "Exam 1"}, {"index": "2", "name": "Exam 2"}]
    assert rules(check(cs, "GET", "/api/offices/3", 200, {**OFFICE, "exam_rooms": rooms})) == [
        ("$.exam_rooms[0].index", "required"),
        ("$.exam_rooms[1].index", "type"),
    ]
    assert rules(check(cs, "GET", "/api/offices/3", 200, {**OFFICE, "exam_rooms": "Exam 1"})) == [
        ("$.exam_rooms", "type")
    ]


# A patient as DrChrono returns it when nobody filled in the optional choices (Django blank=True).
UNSET_PATIENT = {
    "id": 5,
    "gender": "Female",
    "doctor": 7,
    "race": "",
    "ethnicity": "",
    "preferred_language": "",
    "patient_status": "A",
    "primary_insurance": {"subscriber_state": "", "insurance_plan_type": ""},
    "auto_accident_insurance": {
        "auto_accident_significant_injury": "",
        "auto_accident_payer_state": "",
    },
}
UNSET_PATHS = [
    "$.auto_accident_insurance.auto_accident_payer_state",
    "$.auto_accident_insurance.auto_accident_significant_injury",
    "$.ethnicity",
    "$.preferred_language",
    "$.primary_insurance.subscriber_state",
    "$.race",
]


def _blank_enums_published(cs: ContractSet) -> None:
    report = check(cs, "GET", "/api/patients/5", 200, UNSET_PATIENT)
    assert sorted(rules(report)) == [(path, "enum") for path in UNSET_PATHS]
    visit = {**APPOINTMENT_BREAK, "vitals": {"smoking_status": ""}}
    assert rules(check(cs, "GET", "/api/appointments/1001", 200, visit)) == [
        ("$.vitals.smoking_status", "enum")
    ]


def _blank_enums_corrected(cs: ContractSet) -> None:
    assert check(cs, "GET", "/api/patients/5", 200, UNSET_PATIENT).ok
    visit = {**APPOINTMENT_BREAK, "vitals": {"smoking_status": ""}}
    assert check(cs, "GET", "/api/appointments/1001", 200, visit).ok
    filled = {
        **UNSET_PATIENT,
        "race": "asian",
        "ethnicity": "hispanic",
        "primary_insurance": {"subscriber_state": "CA"},
    }
    assert check(cs, "GET", "/api/patients/5", 200, filled).ok
    # Still enums, not free text: an unknown state or a value outside the list fails.
    wrong = {
        **UNSET_PATIENT,
        "primary_insurance": {"subscriber_state": "XX"},
        "ethnicity": "latino",
        "gender": "M",
    }
    assert sorted(rules(check(cs, "GET", "/api/patients/5", 200, wrong))) == [
        ("$.ethnicity", "enum"),
        ("$.gender", "enum"),
        ("$.primary_insurance.subscriber_state", "enum"),
    ]


CASES: dict[str, Callable[[frozenset[str]], None]] = {
    "type-int-is-integer": refuses(
        "unknown type 'int'",
        "/paths/~1api~1clinical_notes_list/get/responses/",
        _clinical_notes_pagination,
    ),
    "type-bool-is-boolean": refuses(
        "unknown type 'bool'",
        "/paths/~1api~1day_sheet_patient_payments/get/parameters/8/schema/type",
    ),
    "type-file-is-string": refuses(
        "unknown type 'file'", "/paths/~1api~1signed_consent_forms/post/parameters/3/schema/type"
    ),
    "empty-required-dropped": refuses(
        "'required' must be a non-empty list", "/components/schemas/", _user_with_only_an_id
    ),
    "array-items-any": refuses("array without 'items'", "/components/schemas/", _recurring_days),
    "ref-siblings-ignored": refuses(
        "$ref has sibling keys", "/components/schemas/", _work_schedule
    ),
    "preferred-pharmacies-enum": refuses(
        "enum member is an array/object",
        "/components/schemas/Patient/properties/preferred_pharmacies/enum/0",
        _pharmacies,
    ),
    "userprofile-is-doctor-boolean": _user_field("is_doctor", True),
    "userprofile-is-staff-boolean": _user_field("is_staff", False),
    "userprofile-permissions-object": _user_field("permissions", {"manage_patients": True}),
    "userprofile-id-integer": _user_field("id", 11),
    "userprofile-practice-group-integer": _user_field("practice_group", 12345),
    "doctor-practice-group-integer": compare(_doctor_group_published, _doctor_group_corrected),
    "doctor-fk-integer": compare(_doctor_published, _doctor_corrected),
    "patient-fk-integer": compare(_patient_fk_published, _patient_fk_corrected),
    "office-exam-rooms-list": compare(_exam_rooms_published, _exam_rooms_corrected),
    "blank-string-enums": compare(_blank_enums_published, _blank_enums_corrected),
    "nullable-by-default": compare(_break_published, _break_corrected),
    "list-envelope-results": compare(_envelope_published, _envelope_corrected),
    "error-bodies-drf": compare(_error_bodies_published, _error_bodies_corrected),
    "undocumented-responses-list": _status_missing_then_ok(
        "GET", "/api/day_sheet_charges", 200, {"x": 1}
    ),
    "client-errors-everywhere": _status_missing_then_ok(
        "DELETE", "/api/appointments/1001", 405, {"detail": 'Method "DELETE" not allowed.'}
    ),
    "throttled-429": _status_missing_then_ok(
        "GET",
        "/api/patients",
        429,
        {"detail": "Request was throttled. Expected available in 3 seconds."},
    ),
    "no-content-on-update-delete": compare(
        lambda cs: _status_missing_then_ok("PUT", "/api/appointments/1001", 204, b"", None)(
            frozenset({"no-content-on-update-delete"})
        ),
        _no_content_corrected,
    ),
    "patients-duplicate-409": _status_missing_then_ok(
        "POST", "/api/patients", 409, {"detail": "Potential duplicate patient."}
    ),
    "users-current-redirect": compare(_redirect_published, _redirect_corrected),
    "oauth-token-endpoint": compare(_token_published, _token_corrected),
    "oauth-revoke-endpoint": compare(_revoke_published, _revoke_corrected),
}


def test_every_correction_has_a_case() -> None:
    ids = [c.id for c in corrections()]
    assert sorted(ids) == sorted(CASES), "add a case for each new correction, remove stale ones"


def test_every_correction_has_a_reason() -> None:
    for correction in corrections():
        assert correction.reason and "\n" not in correction.reason


@pytest.mark.parametrize("correction_id", sorted(CASES))
def test_correction(correction_id: str) -> None:
    CASES[correction_id](frozenset({correction_id}))


# --- the enum_add_value kind, on a small document ---------------------------------------------

BLANK_ENUMS = [c for c in corrections() if c.id == "blank-string-enums"]


def _race_document(race: dict[str, Any]) -> dict[str, Any]:
    ok = {
        "description": "OK",
        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Patient"}}},
    }
    return {
        "openapi": "3.0.0",
        "components": {
            "schemas": {
                "Patient": {
                    "type": "object",
                    "properties": {"race": race, "visits": {"type": "integer", "enum": [1, 2]}},
                }
            }
        },
        "paths": {
            "/api/patients/{id}": {
                "get": {
                    "operationId": "p",
                    "responses": {"200": ok},
                    "parameters": [
                        {
                            "name": "race",
                            "in": "query",
                            "schema": {"type": "string", "enum": ["asian"]},
                        }
                    ],
                }
            }
        },
    }


def test_blank_enum_keeps_the_list_closed() -> None:
    # DrChrono dropped "black" from this (made-up) list: "" is added, "black" stays refused.
    doc = _race_document({"type": "string", "enum": ["asian", "white"]})
    cs = ContractSet.from_files(build_contracts(doc, BLANK_ENUMS))
    assert check(cs, "GET", "/api/patients/5", 200, {"race": ""}).ok
    assert rules(check(cs, "GET", "/api/patients/5", 200, {"race": "black"})) == [
        ("$.race", "enum")
    ]
    corrected = apply_corrections(doc, BLANK_ENUMS)
    schema = corrected["paths"]["/api/patients/{id}"]["get"]
    assert schema["parameters"][0]["schema"]["enum"] == ["asian"]  # requests are not contracts
    props = corrected["components"]["schemas"]["Patient"]["properties"]
    assert props["visits"]["enum"] == [1, 2]  # only string enums


def test_blank_enum_counts_untyped_string_enums_and_goes_stale() -> None:
    untyped = apply_corrections(_race_document({"enum": ["asian", "white"]}), BLANK_ENUMS)
    assert untyped["components"]["schemas"]["Patient"]["properties"]["race"]["enum"] == [
        "asian",
        "white",
        "",
    ]
    with pytest.raises(InputError, match="blank-string-enums.*changed nothing.*stale"):
        apply_corrections(_race_document({"type": "string", "enum": ["", "asian"]}), BLANK_ENUMS)
