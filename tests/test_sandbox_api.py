"""The sandbox's REST API follows DrChrono's conventions (auth, scopes, pagination, CRUD codes)."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator

import httpx
import pytest

from drchrono_sandbox import Sandbox, SandboxConfig

TIMESTAMP = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d$")
ANCHOR = dt.date(2024, 3, 15)


@pytest.fixture(scope="module")
def sb() -> Iterator[Sandbox]:
    with Sandbox(SandboxConfig(seed=5, anchor_date=ANCHOR)) as sandbox:
        yield sandbox


def bearer_client(sb: Sandbox, scopes: list[str] | None = None) -> httpx.Client:
    refresh_token = sb.issue_refresh_token(scopes)
    token = httpx.post(
        f"{sb.base_url}/o/token/",
        auth=(sb.client_id, sb.client_secret),
        data={"grant_type": "refresh_token", "refresh_token": refresh_token},
    ).json()["access_token"]
    return httpx.Client(
        base_url=sb.base_url,
        timeout=10,
        headers={"Authorization": f"Bearer {token}", "X-DRC-API-Version": "v4"},
    )


@pytest.fixture(scope="module")
def api(sb: Sandbox) -> Iterator[httpx.Client]:
    with bearer_client(sb) as client:
        yield client


def new_patient(**extra: object) -> dict[str, object]:
    return {
        "first_name": "Ada",
        "last_name": "Quill",
        "date_of_birth": "1970-05-01",
        "gender": "Female",
        **extra,
    }


def test_missing_and_invalid_tokens_are_401(sb: Sandbox) -> None:
    missing = httpx.get(f"{sb.base_url}/api/patients")
    assert missing.status_code == 401
    assert missing.json() == {"detail": "Authentication credentials were not provided."}
    wrong = httpx.get(f"{sb.base_url}/api/patients", headers={"Authorization": "Bearer nope"})
    assert wrong.status_code == 401


def test_token_without_the_scope_gets_403(sb: Sandbox) -> None:
    with bearer_client(sb, ["patients:read"]) as limited:
        assert limited.get("/api/patients").status_code == 200
        refused = limited.get("/api/appointments", params={"date": "2024-03-15"})
        assert refused.status_code == 403
        assert refused.json() == {"detail": "You do not have permission to perform this action."}
        write = limited.post("/api/patients", json=new_patient(doctor=sb.doctor_id))
        assert write.status_code == 403


def test_users_current_redirects_to_the_profile(api: httpx.Client, sb: Sandbox) -> None:
    hop = api.get("/api/users/current")
    assert hop.status_code == 302
    assert re.fullmatch(r"/api/users/\d+", hop.headers["location"])
    profile = api.get("/api/users/current", follow_redirects=True).json()
    assert profile["is_doctor"] is True and profile["is_staff"] is False
    assert isinstance(profile["permissions"], dict)
    assert profile["doctor"] == sb.doctor_id


def test_cursor_pagination_walks_every_patient(api: httpx.Client) -> None:
    seen: list[int] = []
    pages = 0
    url: str | None = "/api/patients?page_size=7"
    previous_seen = None
    while url:
        page = api.get(url).json()
        assert set(page) == {"previous", "results", "next"}
        assert len(page["results"]) <= 7
        seen += [p["id"] for p in page["results"]]
        if pages == 1:
            previous_seen = page["previous"]
        url = page["next"]
        pages += 1
    assert pages >= 3 and len(seen) == 30 and len(set(seen)) == 30
    assert previous_seen is not None and "cursor=" in previous_seen
    assert api.get("/api/patients", params={"cursor": "garbage!"}).status_code == 404


def test_default_page_size_and_filters(api: httpx.Client, sb: Sandbox) -> None:
    page = api.get("/api/patients").json()
    assert len(page["results"]) == 25 and page["next"]
    one = page["results"][3]
    found = api.get("/api/patients", params={"last_name": one["last_name"]}).json()["results"]
    assert one["id"] in [p["id"] for p in found]
    assert all(p["last_name"] == one["last_name"] for p in found)
    mine = api.get("/api/patients", params={"doctor": sb.doctor_id, "page_size": 250}).json()
    assert len(mine["results"]) == 30
    assert api.get("/api/patients", params={"doctor": 1}).json()["results"] == []


def test_patient_records_are_complete_and_realistic(api: httpx.Client) -> None:
    patient = api.get("/api/patients").json()["results"][0]
    assert len(patient) == 65
    assert re.fullmatch(r"\d{3}-\d{2}-\d{4}", patient["social_security_number"])
    assert re.fullmatch(r"\(\d{3}\) \d{3}-\d{4}", patient["cell_phone"])
    assert "@" in patient["email"] and patient["address"] and patient["zip_code"]
    assert patient["gender"] in ("", "Male", "Female", "Other", "UNK", "ASKU")
    assert TIMESTAMP.match(patient["created_at"])
    assert re.fullmatch(r"\d+\.\d\d", patient["copay"])
    single = api.get(f"/api/patients/{patient['id']}").json()
    assert single == patient


def test_appointments_need_a_time_window(api: httpx.Client) -> None:
    response = api.get("/api/appointments")
    assert response.status_code == 400
    too_long = api.get("/api/appointments", params={"date_range": "2024-01-01/2024-12-31"})
    assert too_long.status_code == 400 and "date_range" in too_long.json()
    window = api.get(
        "/api/appointments", params={"date_range": "2024-01-15/2024-05-15", "page_size": 250}
    ).json()["results"]
    assert window, "the seed spreads appointments around the anchor day"
    appointment = window[0]
    assert isinstance(appointment["id"], str) and len(appointment) == 57
    assert TIMESTAMP.match(appointment["scheduled_time"])
    assert all("2024-01-15" <= a["scheduled_time"][:10] <= "2024-05-15" for a in window)
    day = appointment["scheduled_time"][:10]
    on_day = api.get("/api/appointments", params={"date": day}).json()["results"]
    assert appointment["id"] in [a["id"] for a in on_day]


def test_patient_create_update_delete_codes(api: httpx.Client, sb: Sandbox) -> None:
    created = api.post("/api/patients", json=new_patient(doctor=sb.doctor_id, first_name="Crud"))
    assert created.status_code == 201, created.text
    patient = created.json()
    assert isinstance(patient["id"], int) and patient["first_name"] == "Crud"
    assert len(patient) == 65 and patient["chart_id"]
    path = f"/api/patients/{patient['id']}"
    patched = api.patch(path, json={"city": "Springfield"})
    assert patched.status_code == 204 and patched.content == b""
    assert api.get(path).json()["city"] == "Springfield"
    put = api.put(path, json=new_patient(doctor=sb.doctor_id, first_name="Crud2"))
    assert put.status_code == 204
    deleted = api.delete(path)
    assert deleted.status_code == 204 and deleted.content == b""
    assert api.get(path).status_code == 404
    assert api.get(path).json() == {"detail": "Not found."}


def test_patient_create_validation(api: httpx.Client, sb: Sandbox) -> None:
    missing = api.post("/api/patients", json={"first_name": "No", "last_name": "Gender"})
    assert missing.status_code == 400
    assert missing.json() == {
        "gender": ["This field is required."],
        "doctor": ["This field is required."],
    }
    bad = api.post("/api/patients", json=new_patient(doctor=sb.doctor_id, gender="Robot"))
    assert bad.status_code == 400 and "gender" in bad.json()
    ghost = api.post("/api/patients", json=new_patient(doctor=999))
    assert ghost.status_code == 400 and "doctor" in ghost.json()


def test_duplicate_patient_is_409_unless_allowed(api: httpx.Client, sb: Sandbox) -> None:
    body = new_patient(doctor=sb.doctor_id, first_name="Twin", last_name="Dup")
    assert api.post("/api/patients", json=body).status_code == 201
    again = api.post("/api/patients", json=body)
    assert again.status_code == 409 and "detail" in again.json()
    allowed = api.post("/api/patients", json={**body, "allow_duplicates": True})
    assert allowed.status_code == 201


def test_appointment_create_and_overlap(api: httpx.Client, sb: Sandbox) -> None:
    env = sb.environment()
    patient = api.get("/api/patients").json()["results"][0]["id"]
    body = {
        "doctor": sb.doctor_id,
        "office": int(env["office_id"]),
        "exam_room": int(env["exam_room"]),
        "patient": patient,
        "scheduled_time": "2030-01-07T06:00:00",
        "duration": 30,
        "reason": "Check-up",
    }
    created = api.post("/api/appointments", json=body)
    assert created.status_code == 201, created.text
    appointment = created.json()
    assert isinstance(appointment["id"], str) and appointment["scheduled_time"] == (
        "2030-01-07T06:00:00"
    )
    clash = api.post("/api/appointments", json={**body, "scheduled_time": "2030-01-07T06:15:00"})
    assert clash.status_code == 409 and "detail" in clash.json()
    allowed = api.post(
        "/api/appointments",
        json={**body, "scheduled_time": "2030-01-07T06:15:00", "allow_overlapping": True},
    )
    assert allowed.status_code == 201
    missing = api.post("/api/appointments", json={"doctor": sb.doctor_id})
    assert missing.status_code == 400
    assert set(missing.json()) == {"exam_room", "office", "patient", "scheduled_time"}
    path = f"/api/appointments/{appointment['id']}"
    assert api.patch(path, json={"status": "Arrived"}).status_code == 204
    assert api.get(path).json()["status"] == "Arrived"
    assert api.delete(path).status_code == 204


def test_clinical_resources(api: httpx.Client, sb: Sandbox) -> None:
    patient = api.get("/api/patients").json()["results"][0]["id"]
    for name in ("allergies", "medications", "problems"):
        listed = api.get(f"/api/{name}", params={"patient": patient}).json()["results"]
        assert listed and all(r["patient"] == patient for r in listed)
        assert api.get(f"/api/{name}/{listed[0]['id']}").status_code == 200
    created = api.post(
        "/api/allergies",
        json={
            "doctor": sb.doctor_id,
            "patient": patient,
            "reaction": "Sneezing",
            "status": "active",
        },
    )
    assert created.status_code == 201 and created.json()["reaction"] == "Sneezing"
    assert api.delete(f"/api/allergies/{created.json()['id']}").status_code == 405
    task = api.post("/api/tasks", json={"title": "Call back", "status": 1})
    assert task.status_code == 201
    notes = api.get("/api/clinical_notes").json()["results"]
    assert notes and api.get(f"/api/clinical_notes/{notes[0]['appointment']}").status_code == 200


def test_derived_family_writes_parse_fields_like_drf(api: httpx.Client) -> None:
    # A family with no hand-written rules (line items) is served from state all the same:
    # writable fields come back parsed, read-only ones are ignored, a wrong type is a 400 and
    # a foreign key must name a record that exists.
    appointment = api.get("/api/appointments", params={"since": "2000-01-01"}).json()
    body = {
        "appointment": appointment["results"][0]["id"],
        "code": "99213",
        "procedure_type": "C",
        "diagnosis_pointers": [],
        "quantity": "2",
        "patient": "not-an-id",  # read-only: ignored
    }
    created = api.post("/api/line_items", json=body)
    assert created.status_code == 201, created.text
    item = created.json()
    assert item["code"] == "99213" and item["quantity"] == 2.0
    assert api.get(f"/api/line_items/{item['id']}").json() == item
    refused = api.post("/api/line_items", json=body | {"price": "lots"})
    assert (refused.status_code, refused.json()) == (
        400,
        {"price": ["A valid number is required."]},
    )
    ghost = api.post("/api/line_items", json=body | {"appointment": 999999})
    assert (ghost.status_code, ghost.json()) == (
        400,
        {"appointment": ['Invalid pk "999999" - object does not exist.']},
    )
    missing = api.post("/api/line_items", json={"code": "99213"})
    assert missing.status_code == 400
    assert missing.json()["appointment"] == ["This field is required."]


def test_unknown_paths_and_methods(api: httpx.Client) -> None:
    assert api.get("/api/no_such_thing").status_code == 404
    assert api.get("/api/patients/").status_code == 404  # DrChrono paths have no trailing slash
    not_allowed = api.delete("/api/patients")
    assert not_allowed.status_code == 405
    assert not_allowed.json() == {"detail": 'Method "DELETE" not allowed.'}


def test_rate_limit_answers_429() -> None:
    config = SandboxConfig(seed=5, rate_limit=True, hourly_limit=4)
    with Sandbox(config) as sandbox, bearer_client(sandbox) as client:
        codes = [client.get("/api/doctors").status_code for _ in range(5)]
        assert codes == [200, 200, 200, 200, 429]
        throttled = client.get("/api/doctors")
        assert throttled.json() == {"detail": "Request was throttled."}
        assert "retry-after" not in throttled.headers
