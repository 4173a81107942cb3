"""The sandbox answers the way the committed contracts say real DrChrono does.

Every operation the sandbox serves from state, every operation it generates data for, and the
error paths a client meets (401, 403, 404, 400, 409, 302, OAuth token and revoke) are called over
real HTTP on loopback and checked with ``ContractSet.check``. A sandbox response the contracts
reject is either a sandbox bug or a missing correction: both are worth a red test.
"""

from __future__ import annotations

import datetime as dt
import itertools
import re
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest

from drchrono_sandbox import Sandbox, SandboxConfig
from drchrono_sandbox.actions import ACTIONS
from drchrono_sandbox.api import stateful_kind
from drchrono_sandbox.families import catalog_for
from drchrono_sandbox.openapi_ops import Operation, load_document
from drchrono_sandbox.resources import RESOURCES
from drchrono_sandbox.shapes import load_shapes
from harness.contracts import ContractReport, ContractSet
from harness.paths import CONTRACTS_DIR

DOCUMENT = load_document()
CATALOG = catalog_for(DOCUMENT, load_shapes())
# The hand-written resources, each called here with a body of its own; the families derived
# from the contracts are called generically in test_sandbox_generic.py.
STATEFUL = sorted(
    op.key
    for op in DOCUMENT.operations
    if stateful_kind(op, CATALOG) is not None and op.template.split("/")[2] in RESOURCES
)
GENERATED = sorted(
    op.key
    for op in DOCUMENT.operations
    if stateful_kind(op, CATALOG) is None and op.key not in ACTIONS
)
# Filters an operation needs that the document does not mark required (availability's day).
NEEDED_QUERY = {"GET /api/availability": {"date": "2031-03-03"}}
SUCCESS = {"list": 200, "retrieve": 200, "create": 201, "update": 204, "delete": 204}
NOT_AUTHENTICATED = {"detail": "Authentication credentials were not provided."}
FORBIDDEN = {"detail": "You do not have permission to perform this action."}


@pytest.fixture(scope="module")
def contracts() -> ContractSet:
    return ContractSet.load(CONTRACTS_DIR)


@pytest.fixture(scope="module")
def sb() -> Iterator[Sandbox]:
    with Sandbox(SandboxConfig(seed=0), port=0) as sandbox:
        yield sandbox


def token_response(sb: Sandbox, refresh_token: str) -> httpx.Response:
    return httpx.post(
        f"{sb.base_url}/o/token/",
        data={
            "grant_type": "refresh_token",
            "refresh_token": refresh_token,
            "client_id": sb.client_id,
            "client_secret": sb.client_secret,
        },
    )


def client_for(sb: Sandbox, refresh_token: str) -> httpx.Client:
    access = token_response(sb, refresh_token).json()["access_token"]
    return httpx.Client(
        base_url=sb.base_url,
        timeout=10,
        follow_redirects=False,
        headers={"Authorization": f"Bearer {access}", "X-DRC-API-Version": "v4"},
    )


@pytest.fixture(scope="module")
def api(sb: Sandbox) -> Iterator[httpx.Client]:
    with client_for(sb, sb.refresh_token) as client:
        yield client


def conforms(
    contracts: ContractSet, response: httpx.Response, *, strict: bool = False
) -> ContractReport:
    """The contract report of ``response``; fails naming every violation."""
    request = response.request
    report = contracts.check(
        method=request.method,
        url=str(request.url),
        status=response.status_code,
        content_type=response.headers.get("content-type"),
        body=response.content,
        strict=strict,
    )
    where = f"{request.method} {request.url.path} -> {response.status_code}"
    assert report.operation is not None, f"{where} matches no contract"
    assert report.ok, f"{where} breaks {report.operation}:\n" + "\n".join(
        f"  {v.json_path}: {v.message}" for v in report.violations
    )
    return report


# --- the world a stateful request needs --------------------------------------------------------


@dataclass
class World:
    """Creates what requests need (patients, appointments, clinical records) over the API."""

    sb: Sandbox
    api: httpx.Client
    counter: Iterator[int] = field(default_factory=itertools.count)

    def created(self, path: str, body: dict[str, Any]) -> dict[str, Any]:
        response = self.api.post(path, json=body)
        assert response.status_code == 201, response.text
        record: dict[str, Any] = response.json()
        return record

    def first(self, resource: str) -> Any:
        # A clinical note has no id of its own: it is addressed by its appointment's id.
        key = "appointment" if resource == "clinical_notes" else "id"
        params = {"since": "2000-01-01"} if resource.startswith("appointments") else {}
        return self.api.get(f"/api/{resource}", params=params).json()["results"][0][key]

    def patient_body(self) -> dict[str, Any]:
        # A new date of birth each time, so DrChrono's duplicate check never fires.
        born = dt.date(1970, 5, 1) + dt.timedelta(days=next(self.counter))
        return {
            "first_name": "Ada",
            "last_name": "Quill",
            "date_of_birth": born.isoformat(),
            "gender": "Female",
            "doctor": self.sb.doctor_id,
        }

    def patient(self) -> int:
        return int(self.created("/api/patients", self.patient_body())["id"])

    def appointment_body(self) -> dict[str, Any]:
        # Each appointment on its own day, so none overlaps another.
        day = dt.date(2031, 3, 3) + dt.timedelta(days=next(self.counter))
        env = self.sb.environment()
        return {
            "doctor": self.sb.doctor_id,
            "office": int(env["office_id"]),
            "exam_room": int(env["exam_room"]),
            "patient": self.patient(),
            "scheduled_time": f"{day.isoformat()}T10:00:00",
            "duration": 30,
            "reason": "Follow-up",
        }

    def appointment(self) -> str:
        return str(self.created("/api/appointments", self.appointment_body())["id"])

    def clinical_body(self, resource: str) -> dict[str, Any]:
        base = {"doctor": self.sb.doctor_id, "patient": self.patient()}
        return (
            base
            | {
                "allergies": {"description": "Penicillin", "reaction": "Hives", "status": "active"},
                "medications": {
                    "name": "Lisinopril 10 mg",
                    "frequency": "daily",
                    "status": "active",
                },
                "problems": {
                    "name": "Hypertension",
                    "icd_code": "I10",
                    "icd_version": "10",
                    "status": "active",
                },
            }[resource]
        )

    def task_body(self) -> dict[str, Any]:
        return {"title": "Call back about lab results", "status": 1, "priority": "20"}

    def body_for(self, resource: str) -> dict[str, Any]:
        if resource == "patients":
            return self.patient_body()
        if resource == "appointments":
            return self.appointment_body()
        if resource == "tasks":
            return self.task_body()
        return self.clinical_body(resource)

    def record(self, resource: str) -> Any:
        """The id of a record to read or change: a new one when the API can create it."""
        if resource in ("doctors", "offices", "users", "clinical_notes"):
            return self.first(resource)
        return self.created(f"/api/{resource}", self.body_for(resource))["id"]


@pytest.fixture(scope="module")
def world(sb: Sandbox, api: httpx.Client) -> World:
    return World(sb, api)


# --- every stateful operation -----------------------------------------------------------------

Call = Callable[[World, httpx.Client], httpx.Response]

UPDATES: dict[str, dict[str, Any]] = {
    "patients": {"preferred_language": "spa", "cell_phone": "(555) 010-0199"},
    "appointments": {"status": "Confirmed", "notes": "Bring the glucose log."},
    "offices": {"online_scheduling": True},
    "tasks": {"priority": "30"},
    "allergies": {"status": "inactive"},
    "medications": {"status": "inactive"},
    "problems": {"status": "resolved"},
}


def stateful_call(key: str) -> Call:
    method, template = key.split(" ", 1)
    resource = template.split("/")[2]
    kind = stateful_kind(next(op for op in DOCUMENT.operations if op.key == key), CATALOG)

    def call(world: World, api: httpx.Client) -> httpx.Response:
        if kind == "list":
            params = {"page_size": 3}
            if resource == "appointments":
                appointment = api.get(f"/api/appointments/{world.appointment()}").json()
                params |= {"date": appointment["scheduled_time"][:10]}
            return api.get(template, params=params)
        if kind == "create":
            return api.post(template, json=world.body_for(resource))
        path = template.replace("{id}", str(world.record(resource)))
        if method == "PUT":
            # PUT replaces the record: the fields a create needs, and the change.
            whole = world.body_for(resource) if resource != "offices" else {}
            return api.put(path, json=whole | UPDATES[resource])
        if method == "PATCH":
            return api.patch(path, json=UPDATES[resource])
        return api.request(method, path)

    return call


def test_the_sandbox_lists_its_stateful_operations() -> None:
    # Guards the parametrisation below against silently shrinking to nothing.
    kinds = {stateful_kind(op, CATALOG) for op in DOCUMENT.operations if op.key in STATEFUL}
    assert kinds == set(SUCCESS)
    assert {
        "POST /api/patients",
        "GET /api/appointments",
        "DELETE /api/appointments/{id}",
        "PUT /api/offices/{id}",
        "GET /api/clinical_notes/{id}",
    } <= set(STATEFUL)


@pytest.mark.parametrize("key", STATEFUL)
def test_stateful_operation_conforms(
    key: str, world: World, api: httpx.Client, contracts: ContractSet
) -> None:
    response = stateful_call(key)(world, api)
    kind = stateful_kind(next(op for op in DOCUMENT.operations if op.key == key), CATALOG)
    assert kind is not None
    assert response.status_code == SUCCESS[kind], response.text
    # Stateful records carry no field the contract does not know (strict: drift fails too).
    report = conforms(contracts, response, strict=True)
    assert report.operation == key
    if kind == "list":
        page = response.json()
        assert set(page) == {"previous", "results", "next"} and len(page["results"]) <= 3


def test_created_patient_reads_back_and_conforms(
    world: World, api: httpx.Client, contracts: ContractSet
) -> None:
    patient_id = world.patient()
    response = api.get(f"/api/patients/{patient_id}")
    conforms(contracts, response, strict=True)
    patient = response.json()
    # Unset Django choice fields come back as "", which the contracts accept.
    assert patient["race"] == "" and patient["ethnicity"] == ""
    assert patient["gender"] == "Female" and patient["doctor"] == world.sb.doctor_id


def test_a_patient_read_back_can_be_written_back(world: World, api: httpx.Client) -> None:
    # GET, change one field, PUT: a client's everyday round trip. The unset choices come back
    # as "" and real DrChrono (Django blank=True) accepts "" again.
    path = f"/api/patients/{world.patient()}"
    patient = api.get(path).json()
    assert patient["race"] == ""
    writable = {
        k: patient[k]
        for k in (
            "first_name",
            "last_name",
            "date_of_birth",
            "gender",
            "doctor",
            "race",
            "ethnicity",
            "preferred_language",
        )
    }
    response = api.put(path, json=writable | {"first_name": "Adah"})
    assert response.status_code == 204, response.text
    after = api.get(path).json()
    assert after["first_name"] == "Adah" and after["race"] == ""


def test_a_choice_outside_the_list_is_still_refused(world: World, api: httpx.Client) -> None:
    response = api.patch(f"/api/patients/{world.patient()}", json={"race": "martian"})
    assert response.status_code == 400
    assert response.json() == {"race": ['"martian" is not a valid choice.']}


def test_appointments_by_date_and_pages_conform(
    world: World, api: httpx.Client, contracts: ContractSet
) -> None:
    appointment_id = world.appointment()
    day = api.get(f"/api/appointments/{appointment_id}").json()["scheduled_time"][:10]
    listed = api.get("/api/appointments", params={"date": day})
    conforms(contracts, listed, strict=True)
    assert appointment_id in [a["id"] for a in listed.json()["results"]]
    assert all(a["scheduled_time"].startswith(day) for a in listed.json()["results"])

    first = api.get("/api/patients", params={"page_size": 5})
    conforms(contracts, first, strict=True)
    assert len(first.json()["results"]) == 5 and first.json()["previous"] is None
    second = api.get(first.json()["next"])
    conforms(contracts, second, strict=True)
    assert second.json()["previous"] is not None
    seen = {p["id"] for p in first.json()["results"]}
    assert seen.isdisjoint(p["id"] for p in second.json()["results"])


# --- generated operations ---------------------------------------------------------------------


def filler(name: str, schema: Mapping[str, Any], world: World) -> Any:
    """A plausible value for a required request field the sandbox has no state for."""
    kind = schema.get("type")
    if name in ("doctor", "provider"):
        return world.sb.doctor_id
    if name == "office":
        return int(world.sb.environment()["office_id"])
    if kind in ("integer", "int"):
        return 1
    if kind == "number":
        return 1.0
    if kind in ("boolean", "bool"):
        return True
    if kind == "array":
        return []
    if kind == "object":
        return {}
    if "time" in name:
        return "2031-03-03T10:00:00"
    if "date" in name:
        return "2031-03-03"
    return "Routine follow-up"


def generated_request(
    op: Operation, world: World
) -> tuple[str, dict[str, Any], dict[str, Any] | None]:
    """Path (with a record that exists), required query parameters and body of ``op``."""
    family = op.template.split("/")[2]
    record = str(world.first(family)) if family in CATALOG.families else "1"
    path = re.sub(r"\{[^}]+\}", record, op.template)
    params = {
        name: record if name == "id" else "2031-03-03" if "date" in name else "primary"
        for name in op.required_query
    }
    params.update(NEEDED_QUERY.get(op.key, {}))
    if "uuid" in params:  # a batch is read back by the uuid its POST handed out
        params["uuid"] = world.created(op.template, {})["uuid"]
    if op.method not in ("POST", "PUT", "PATCH"):
        return path, params, None
    schema = DOCUMENT.resolve(op.request_schema or {})
    props = schema.get("properties") or {}
    required = schema.get("required") or []
    return (
        path,
        params,
        {name: filler(name, DOCUMENT.resolve(props.get(name) or {}), world) for name in required},
    )


@pytest.mark.parametrize("key", GENERATED)
def test_generated_operation_conforms(
    key: str, world: World, api: httpx.Client, contracts: ContractSet
) -> None:
    op = next(o for o in DOCUMENT.operations if o.key == key)
    path, params, body = generated_request(op, world)
    response = api.request(op.method, path, params=params, json=body)
    assert response.status_code < 300, response.text
    conforms(contracts, response)


def test_generated_records_name_the_sandbox_patients(sb: Sandbox, api: httpx.Client) -> None:
    patients = set(sb.store.table("patients"))
    for path in ("/api/care_plans", "/api/line_items", "/api/implantable_devices"):
        for record in api.get(path).json()["results"]:
            assert isinstance(record["patient"], int), path
            assert str(record["patient"]) in patients, path


def test_appointments_list_shares_the_appointments_and_their_string_ids(
    world: World, api: httpx.Client, contracts: ContractSet
) -> None:
    appointment_id = world.first("appointments_list")
    response = api.get(f"/api/appointments_list/{appointment_id}")
    conforms(contracts, response)
    assert isinstance(appointment_id, str)
    assert response.json() == api.get(f"/api/appointments/{appointment_id}").json()


def test_adding_an_exam_room_changes_the_office(
    world: World, api: httpx.Client, contracts: ContractSet
) -> None:
    office_id = world.first("offices")
    before = api.get(f"/api/offices/{office_id}").json()["exam_rooms"]
    added = api.post(f"/api/offices/{office_id}/add_exam_room", json={"name": "Procedure Room"})
    assert added.status_code == 201, added.text
    conforms(contracts, added, strict=True)
    room = added.json()["exam_rooms"][-1]
    assert room == {
        "index": max(r["index"] for r in before) + 1,
        "name": "Procedure Room",
        "online_scheduling": False,
    }
    assert api.get(f"/api/offices/{office_id}").json()["exam_rooms"] == [*before, room]
    # The new room takes appointments at once.
    booked = api.post(
        "/api/appointments",
        json=world.appointment_body() | {"office": office_id, "exam_room": room["index"]},
    )
    assert booked.status_code == 201, booked.text

    missing = api.post("/api/offices/999999/add_exam_room", json={})
    assert (missing.status_code, missing.json()) == (404, {"detail": "Not found."})
    bad = api.post(f"/api/offices/{office_id}/add_exam_room", json={"online_scheduling": "maybe"})
    assert bad.status_code == 400 and "online_scheduling" in bad.json()


def test_doctor_and_user_share_one_practice_group(api: httpx.Client) -> None:
    user = api.get(api.get("/api/users/current").headers["location"]).json()
    doctor = api.get(f"/api/doctors/{user['doctor']}").json()
    assert isinstance(user["practice_group"], int)
    assert int(doctor["practice_group"]) == user["practice_group"]


# --- error paths --------------------------------------------------------------------------------


def test_no_token_is_401(sb: Sandbox, contracts: ContractSet) -> None:
    for headers in ({}, {"Authorization": "Bearer not-a-real-token"}):
        response = httpx.get(f"{sb.base_url}/api/patients", headers=headers)
        assert (response.status_code, response.json()) == (401, NOT_AUTHENTICATED)
        conforms(contracts, response)


def test_token_without_the_scope_is_403(sb: Sandbox, contracts: ContractSet) -> None:
    with client_for(sb, sb.issue_refresh_token(scopes=["user:read"])) as limited:
        refused = limited.get("/api/patients")
        assert (refused.status_code, refused.json()) == (403, FORBIDDEN)
        conforms(contracts, refused)
        write = limited.post("/api/patients", json={"gender": "Male", "doctor": sb.doctor_id})
        assert write.status_code == 403
        conforms(contracts, write)
        assert limited.get("/api/doctors").status_code == 200  # user:read is enough here


def test_unknown_record_is_404(api: httpx.Client, contracts: ContractSet) -> None:
    for path in ("/api/patients/999999999", "/api/appointments/999999999"):
        response = api.get(path)
        assert (response.status_code, response.json()) == (404, {"detail": "Not found."})
        conforms(contracts, response)


def test_appointments_without_a_date_filter_are_400(
    api: httpx.Client, contracts: ContractSet
) -> None:
    response = api.get("/api/appointments")
    assert response.status_code == 400
    assert "date" in response.text
    conforms(contracts, response)
    too_long = api.get("/api/appointments", params={"date_range": "2024-01-01/2024-12-31"})
    assert too_long.status_code == 400
    conforms(contracts, too_long)


def test_missing_required_fields_are_400(api: httpx.Client, contracts: ContractSet) -> None:
    response = api.post("/api/patients", json={"first_name": "Ada"})
    assert response.status_code == 400
    assert set(response.json()) == {"gender", "doctor"}
    conforms(contracts, response)


def test_duplicate_patient_is_409(world: World, api: httpx.Client, contracts: ContractSet) -> None:
    body = world.patient_body()
    assert api.post("/api/patients", json=body).status_code == 201
    duplicate = api.post("/api/patients", json=body)
    assert duplicate.status_code == 409 and "detail" in duplicate.json()
    conforms(contracts, duplicate)
    allowed = api.post("/api/patients", json=body | {"allow_duplicates": True})
    assert allowed.status_code == 201
    conforms(contracts, allowed)


def test_current_user_redirects_with_302(api: httpx.Client, contracts: ContractSet) -> None:
    response = api.get("/api/users/current")
    assert response.status_code == 302
    report = conforms(contracts, response)
    assert report.operation == "GET /api/users/current"
    location = response.headers["location"]
    assert re.fullmatch(r"/api/users/\d+", httpx.URL(location).path)
    user = api.get(location)
    conforms(contracts, user, strict=True)
    assert isinstance(user.json()["is_doctor"], bool)


def test_token_endpoint_success_and_invalid_grant(sb: Sandbox, contracts: ContractSet) -> None:
    issued = token_response(sb, sb.issue_refresh_token(["patients:read"]))
    assert issued.status_code == 200
    conforms(contracts, issued)
    assert issued.json()["token_type"] == "Bearer" and issued.json()["scope"] == "patients:read"

    refused = token_response(sb, "not-a-refresh-token")
    assert refused.status_code in (400, 401)  # oauthlib versions differ: judge by "error"
    assert refused.json()["error"] == "invalid_grant"
    conforms(contracts, refused)

    wrong_client = httpx.post(
        f"{sb.base_url}/o/token/",
        data={
            "grant_type": "refresh_token",
            "refresh_token": sb.issue_refresh_token(),
            "client_id": sb.client_id,
            "client_secret": "wrong",
        },
    )
    assert wrong_client.json()["error"] == "invalid_client"
    conforms(contracts, wrong_client)


def test_revoke_is_200_with_an_empty_body(sb: Sandbox, contracts: ContractSet) -> None:
    refresh_token = sb.issue_refresh_token(["patients:read"])
    response = httpx.post(
        f"{sb.base_url}/o/revoke_token/",
        data={
            "token": refresh_token,
            "token_type_hint": "refresh_token",
            "client_id": sb.client_id,
            "client_secret": sb.client_secret,
        },
    )
    assert (response.status_code, response.content) == (200, b"")
    conforms(contracts, response)
    after = token_response(sb, refresh_token)
    assert after.json()["error"] == "invalid_grant"
    conforms(contracts, after)
