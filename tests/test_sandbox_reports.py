"""The operations the sandbox used to answer 501 or 404 for, served from its own records.

Day sheets and availability (DrChrono documents no response shape: the sandbox's own, from its
billing records and appointments), the records addressed by something other than an ``id``
(an insurance by payer id, an appointment's telehealth history by the appointment), the yellow
notepad of an appointment and template, the operations the document gives no ``security``
(a token is still needed, any scope will do), and seeded values from DrChrono's small sets.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from drchrono_sandbox import Sandbox, SandboxConfig
from drchrono_sandbox.generate import RELATIONS

NOT_FOUND = {"detail": "Not found."}


@pytest.fixture(scope="module")
def sb() -> Iterator[Sandbox]:
    with Sandbox(SandboxConfig(seed=5, patients=3, appointments=3)) as box:
        yield box


def _token(sb: Sandbox, scopes: list[str] | None = None) -> str:
    token: str = httpx.post(
        f"{sb.base_url}/o/token/",
        auth=(sb.client_id, sb.client_secret),
        data={"grant_type": "refresh_token", "refresh_token": sb.issue_refresh_token(scopes)},
    ).json()["access_token"]
    return token


@pytest.fixture(scope="module")
def api(sb: Sandbox) -> Iterator[httpx.Client]:
    headers = {"Authorization": f"Bearer {_token(sb)}"}
    with httpx.Client(base_url=sb.base_url, timeout=10, headers=headers) as client:
        yield client


def test_day_sheets_total_what_was_posted_in_their_range(api: httpx.Client) -> None:
    patient = api.get("/api/patients").json()["results"][0]["id"]
    made = api.post("/api/patient_payments", json={"patient": patient, "amount": "40.00"})
    assert made.status_code == 201, made.text
    today = dt.date.today()
    us_date = f"{today.month}/{today.day}/{today.year}"  # as DrChrono documents it: M/D/YYYY
    sheet = api.get(
        "/api/day_sheet_patient_payments", params={"start_date": us_date, "end_date": us_date}
    )
    assert sheet.status_code == 200, sheet.text
    body = sheet.json()
    assert made.json()["id"] in [p["id"] for p in body["results"]]
    assert body["start_date"] == today.isoformat()
    assert body["totals"]["count"] == len(body["results"])
    assert float(body["totals"]["amount"]) >= 40
    totals = api.get(
        "/api/day_sheet_totals",
        params={"start_date": today.isoformat(), "end_date": today.isoformat()},
    ).json()["totals"]
    assert totals["patient_payments"] == body["totals"]["amount"]
    for path in ("/api/day_sheet_charges", "/api/day_sheet_credits"):
        answer = api.get(path, params={"start_date": "6/1/2030", "end_date": "6/30/2030"})
        assert answer.status_code == 200 and answer.json()["totals"]["count"] == 0, path
    backwards = api.get(
        "/api/day_sheet_charges", params={"start_date": "6/30/2030", "end_date": "6/1/2030"}
    )
    assert backwards.status_code == 400 and "end_date" in backwards.json()
    missing = api.get("/api/day_sheet_totals", params={"end_date": "6/30/2030"})
    assert missing.status_code == 400 and "start_date" in missing.json()


def test_availability_offers_office_hours_around_booked_appointments(
    sb: Sandbox, api: httpx.Client
) -> None:
    office = api.get("/api/offices").json()["results"][0]
    room = office["exam_rooms"][0]["index"]
    patient = api.get("/api/patients").json()["results"][0]["id"]
    booked = api.post(
        "/api/appointments",
        json={
            "doctor": sb.doctor_id,
            "office": office["id"],
            "exam_room": room,
            "patient": patient,
            "scheduled_time": "2030-06-03T09:00:00",
            "duration": 60,
        },
    )
    assert booked.status_code == 201, booked.text
    answer = api.get("/api/availability", params={"date": "2030-06-03", "office": office["id"]})
    assert answer.status_code == 200, answer.text
    slots = [s for s in answer.json()["results"] if s["exam_room"] == room]
    starts = [s["start"] for s in slots]
    assert "2030-06-03T08:30:00" in starts and "2030-06-03T10:00:00" in starts
    assert "2030-06-03T09:00:00" not in starts and "2030-06-03T09:30:00" not in starts
    assert {s["office"] for s in answer.json()["results"]} == {office["id"]}
    hourly = api.get(
        "/api/availability", params={"date": "2030-06-03", "office": office["id"], "duration": 60}
    ).json()["results"]
    assert all(s["duration"] == 60 for s in hourly)
    refused = api.get("/api/availability", params={"office": office["id"]})
    assert refused.status_code == 400


def test_operations_without_security_still_need_a_token_but_no_scope(sb: Sandbox) -> None:
    # The document gives these two no `security`; DrChrono still authenticates every call.
    narrow = {"Authorization": f"Bearer {_token(sb, ['user:write'])}"}
    for path in ("/api/availability?date=2030-06-03", "/api/patient_authorizations"):
        anonymous = httpx.get(f"{sb.base_url}{path}")
        assert anonymous.status_code == 401, path
        assert httpx.get(f"{sb.base_url}{path}", headers=narrow).status_code == 200, path


def test_an_insurance_is_read_by_its_payer_id(api: httpx.Client) -> None:
    listed = api.get("/api/insurances", params={"payer_type": "emdeon"}).json()["results"]
    payer = listed[0]["payer_id"]
    assert payer.isdigit()  # a clearinghouse payer id, not a word
    found = api.get(f"/api/insurances/{payer}", params={"payer_type": "emdeon"})
    assert (found.status_code, found.json()) == (200, listed[0])
    missing = api.get("/api/insurances/00000000", params={"payer_type": "emdeon"})
    assert (missing.status_code, missing.json()) == (404, NOT_FOUND)


def test_a_telehealth_history_is_read_by_its_appointment(api: httpx.Client) -> None:
    appointment = api.get("/api/appointments", params={"since": "2000-01-01"}).json()["results"][0]
    history = api.get(f"/api/telehealth_appointment_history/{appointment['id']}")
    assert history.status_code == 200, history.text
    assert set(history.json()) == {"description", "event_type", "timestamp"}
    assert history.json()["event_type"] in (
        "appointment_scheduled",
        "patient_joined",
        "session_started",
        "session_ended",
        "appointment_cancelled",
        "session_expired",
    )
    missing = api.get("/api/telehealth_appointment_history/987654321")
    assert (missing.status_code, missing.json()) == (404, NOT_FOUND)


def test_a_yellow_note_keeps_its_appointment_and_template(api: httpx.Client) -> None:
    appointment = api.get("/api/appointments", params={"since": "2000-01-01"}).json()["results"][0]
    template = api.get("/api/clinical_note_templates").json()["results"][0]["id"]
    pair = {"appointment_id": appointment["id"], "template_id": template}
    made = api.post("/api/yellow_notepad", params=pair, json={"content": "Call back Monday"})
    assert made.status_code == 201, made.text
    assert (made.json()["appointment_id"], made.json()["template_id"]) == (
        int(appointment["id"]),
        template,
    )
    again = api.post("/api/yellow_notepad", params=pair, json={"content": "Called back"})
    assert again.status_code == 201
    read = api.get("/api/yellow_notepad", params=pair)
    assert read.status_code == 200 and read.json()["content"] == "Called back"  # one note a pair
    lacking = api.post(
        "/api/yellow_notepad", params={"template_id": template}, json={"content": "x"}
    )
    assert lacking.status_code == 400 and "appointment_id" in lacking.json()


def test_relations_are_relations(api: httpx.Client) -> None:
    for patient in api.get("/api/patients").json()["results"]:
        for field in ("emergency_contact_relation", "responsible_party_relation"):
            assert patient[field] in [*RELATIONS, ""], (field, patient[field])


def test_an_operation_with_nothing_to_serve_it_from_is_501_and_says_so(tmp_path: Path) -> None:
    # Every operation of DrChrono's document is served; one a newer document adds may not be.
    document = tmp_path / "openapi.yml"
    document.write_text(
        "openapi: 3.0.0\n"
        "paths:\n"
        "  /api/forecasts:\n"
        "    get:\n"
        "      operationId: forecasts_list\n"
        "      responses:\n"
        "        '200':\n"
        "          content: {application/json: {schema: {type: object}}}\n",
        encoding="utf-8",
    )
    with Sandbox(
        SandboxConfig(seed=5, patients=1, appointments=1, openapi_document=document)
    ) as box:
        answer = httpx.get(
            f"{box.base_url}/api/forecasts", headers={"Authorization": f"Bearer {_token(box)}"}
        )
    assert answer.status_code == 501
    assert answer.json() == {
        "detail": "GET /api/forecasts (forecasts_list) is not implemented in the sandbox.",
        "sandbox": "not_implemented",
        "operation": "GET /api/forecasts",
    }
