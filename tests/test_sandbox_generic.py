"""Every resource family behaves like DrChrono, derived from the OpenAPI paths and the contracts.

One sandbox for the module; each derived family makes the round trip a client makes (list,
read, create from what it read, update, delete) and every answer is checked against the
contracts. Then the behaviours a client meets on any family: 404s, empty cursors, foreign
keys, required filters, soft delete, multipart uploads and batches.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from drchrono_sandbox import Sandbox, SandboxConfig
from drchrono_sandbox.families import catalog_for
from drchrono_sandbox.openapi_ops import load_document
from drchrono_sandbox.resources import Resource
from drchrono_sandbox.shapes import load_shapes
from harness.contracts import ContractSet
from harness.paths import CONTRACTS_DIR

DOCUMENT = load_document()
SHAPES = load_shapes()
CATALOG = catalog_for(DOCUMENT, SHAPES)
DERIVED = sorted(name for name, family in CATALOG.families.items() if family.generic)
NOT_FOUND = {"detail": "Not found."}


@pytest.fixture(scope="module")
def contracts() -> ContractSet:
    return ContractSet.load(CONTRACTS_DIR)


@pytest.fixture(scope="module")
def sb() -> Iterator[Sandbox]:
    with Sandbox(SandboxConfig(seed=3, patients=4, appointments=4, clinical_records=2)) as box:
        yield box


def access_token(sb: Sandbox) -> str:
    token: str = httpx.post(
        f"{sb.base_url}/o/token/",
        auth=(sb.client_id, sb.client_secret),
        data={"grant_type": "refresh_token", "refresh_token": sb.issue_refresh_token()},
    ).json()["access_token"]
    return token


@pytest.fixture(scope="module")
def api(sb: Sandbox) -> Iterator[httpx.Client]:
    token = access_token(sb)
    with httpx.Client(
        base_url=sb.base_url, timeout=10, headers={"Authorization": f"Bearer {token}"}
    ) as client:
        yield client


def conforms(contracts: ContractSet, response: httpx.Response) -> None:
    report = contracts.check(
        method=response.request.method,
        url=str(response.request.url),
        status=response.status_code,
        content_type=response.headers.get("content-type"),
        body=response.content,
        strict=True,
    )
    where = f"{response.request.method} {response.request.url.path} -> {response.status_code}"
    assert report.operation is not None and report.ok, f"{where}: " + "; ".join(
        f"{v.json_path}: {v.message}" for v in report.violations
    )


def writable(family: str, record: dict[str, Any]) -> dict[str, Any]:
    props = SHAPES.components[CATALOG.families[family].schema].get("properties") or {}
    return {k: v for k, v in record.items() if k in props and not props[k].get("readOnly")}


def new_target(api: httpx.Client, resource: Resource) -> Any:
    """A record of the family ``resource``'s key field names, created for the occasion."""
    assert resource.key_field is not None
    target = resource.references[resource.key_field]
    assert target == "appointments", f"no recipe for a new {target} record"
    patient = api.get("/api/patients").json()["results"][0]
    office = api.get("/api/offices").json()["results"][0]
    created = api.post(
        "/api/appointments",
        json={
            "doctor": patient["doctor"],
            "patient": patient["id"],
            "office": office["id"],
            "exam_room": office["exam_rooms"][0]["index"],
            "scheduled_time": "2031-05-05T07:00:00",
            "allow_overlapping": True,
        },
    )
    assert created.status_code == 201, created.text
    return int(created.json()["id"])


def has(method: str, template: str) -> bool:
    return DOCUMENT.operation(method, template) is not None


@pytest.mark.parametrize("family", DERIVED)
def test_a_derived_family_makes_the_round_trip(
    family: str, sb: Sandbox, api: httpx.Client, contracts: ContractSet
) -> None:
    collection, one = f"/api/{family}", f"/api/{family}/{{id}}"
    resource = CATALOG.families[family]
    seeded = api.get(collection, params={"page_size": 1})  # seeds the family: find one record
    assert seeded.status_code in (200, 400, 404), seeded.text
    first = next(iter(sb.store.table(resource.table).values()))
    lister = DOCUMENT.operation("GET", collection)
    params = {n: str(first.get(n, "primary")) for n in lister.required_query} if lister else {}
    listed = api.get(collection, params=params)
    assert listed.status_code == 200, listed.text
    conforms(contracts, listed)
    if "results" in listed.json():  # a client finds ids in the list
        assert first in listed.json()["results"]
    key = resource.key_field
    if has("GET", one) and key is not None:
        found = api.get(one.format(id=first[key]), params=params)
        assert (found.status_code, found.json()) == (200, first)
        conforms(contracts, found)
        missing = api.get(one.format(id=987654321), params=params)
        assert (missing.status_code, missing.json()) == (404, NOT_FOUND)
        not_a_number = api.get(one.format(id="abc"), params=params)
        assert (not_a_number.status_code, not_a_number.json()) == (404, NOT_FOUND)
    if not has("POST", collection):
        return
    # What a client read, it can write back as a new record.
    body = writable(family, first)
    if key is not None and key != "id":  # a record named by another: a new one to name it
        body[key] = sb.store.meta["doctor_id"] if key == "doctor" else new_target(api, resource)
    created = api.post(collection, params=params, json=body)
    assert created.status_code == 201, created.text
    conforms(contracts, created)
    record = created.json()
    if key is None:
        return
    path = one.format(id=record[key])
    if has("GET", one):
        assert api.get(path, params=params).json() == record
    if has("PATCH", one):
        patched = api.patch(path, params=params, json={})
        assert (patched.status_code, patched.content) == (204, b"")
        gone = api.patch(one.format(id=987654321), params=params, json={})
        assert (gone.status_code, gone.json()) == (404, NOT_FOUND)
    if has("DELETE", one):
        deleted = api.delete(path, params=params)
        assert (deleted.status_code, deleted.content) == (204, b"")
        assert api.delete(path, params=params).status_code == 404


def test_every_family_of_the_document_is_served_from_state() -> None:
    # 76 families have a record schema in the contracts; none is left to generated answers.
    assert len(CATALOG.families) == 76
    assert {"line_items", "documents", "consent_forms", "lab_orders"} <= set(DERIVED)


def test_an_empty_cursor_is_the_first_page(api: httpx.Client) -> None:
    for path in ("/api/patients", "/api/line_items"):
        first = api.get(path, params={"page_size": 2}).json()
        empty = api.get(path, params={"page_size": 2, "cursor": ""})
        assert empty.status_code == 200 and empty.json() == first
    assert api.get("/api/patients", params={"cursor": "garbage!"}).status_code == 404


def test_required_fields_and_foreign_keys_are_drf_errors(sb: Sandbox, api: httpx.Client) -> None:
    missing = api.post("/api/patient_communications", json={})
    assert missing.status_code == 400
    assert missing.json() == {
        "doctor": ["This field is required."],
        "patient": ["This field is required."],
    }
    ghost = api.post("/api/patient_communications", json={"doctor": sb.doctor_id, "patient": 123})
    assert ghost.status_code == 400
    assert ghost.json() == {"patient": ['Invalid pk "123" - object does not exist.']}


def test_required_filters_are_400(api: httpx.Client) -> None:
    response = api.get("/api/insurances")
    assert (response.status_code, response.json()) == (
        400,
        {"payer_type": ["This field is required."]},
    )
    days = api.get("/api/day_sheet_totals", params={"start_date": "2024-01-01"})
    assert (days.status_code, days.json()) == (400, {"end_date": ["This field is required."]})


def test_appointments_are_soft_deleted(sb: Sandbox, api: httpx.Client) -> None:
    listed = api.get("/api/appointments", params={"since": "2000-01-01"}).json()["results"]
    path = f"/api/appointments/{listed[0]['id']}"
    assert api.delete(path).status_code == 204
    kept = api.get(path)
    assert kept.status_code == 200 and kept.json()["deleted_flag"] is True
    after = api.get("/api/appointments", params={"since": "2000-01-01"}).json()["results"]
    assert listed[0]["id"] not in [a["id"] for a in after]
    assert api.patch(path, json={"status": "Arrived"}).status_code == 404
    assert api.delete(path).status_code == 404


def test_multipart_uploads_store_the_record(sb: Sandbox, api: httpx.Client) -> None:
    patient = api.get("/api/patients").json()["results"][0]["id"]
    fields = {
        "doctor": str(sb.doctor_id),
        "patient": str(patient),
        "description": "Referral letter",
        "date": "2024-03-01",
    }
    files = {"document": ("referral.pdf", b"%PDF-1.4 sandbox", "application/pdf")}
    created = api.post("/api/documents", data=fields, files=files)
    assert created.status_code == 201, created.text
    document = created.json()
    assert document["description"] == "Referral letter" and document["patient"] == patient
    assert document["document"].endswith("/referral.pdf")
    assert api.get(f"/api/documents/{document['id']}").json() == document
    no_file = api.post("/api/documents", data=fields, files={"other": ("x.txt", b"x")})
    assert no_file.status_code == 400
    assert no_file.json() == {"document": ["This field is required."]}

    appointment = api.get("/api/appointments", params={"since": "2000-01-01"}).json()
    form = api.get("/api/consent_forms").json()["results"][0]["id"]
    signed = api.post(
        "/api/signed_consent_forms",
        params={
            "patient": patient,
            "appointment": appointment["results"][0]["id"],
            "consent_form": form,
        },
        files={"signature_file": ("signature.png", b"\x89PNG sandbox", "image/png")},
    )
    assert signed.status_code == 201, signed.text
    assert signed.json()["consent_form"] == form
    assert signed.json()["signature_file"].endswith("/signature.png")
    # The document updates a signature on the collection, naming it in the query.
    resigned = api.patch(
        "/api/signed_consent_forms",
        params={"id": signed.json()["id"]},
        files={"signature_file": ("again.png", b"\x89PNG again", "image/png")},
    )
    assert resigned.status_code == 204, resigned.text
    after = api.get(f"/api/signed_consent_forms/{signed.json()['id']}").json()
    assert after["signature_file"].endswith("/again.png")
    nameless = api.patch("/api/signed_consent_forms", files={"signature_file": ("x.png", b"x")})
    assert nameless.json() == {"id": ["This field is required."]}


def test_batches_are_filed_and_read_back(api: httpx.Client, contracts: ContractSet) -> None:
    filed = api.post("/api/patients_list", params={"gender": "Female"})
    assert filed.status_code == 201
    conforms(contracts, filed)
    batch = api.get("/api/patients_list", params={"uuid": filed.json()["uuid"]})
    conforms(contracts, batch)
    females = [p for p in api.get("/api/patients").json()["results"] if p["gender"] == "Female"]
    assert batch.json()["status"] == "Complete" and batch.json()["results"] == females
    unknown = api.get("/api/patients_list", params={"uuid": "no-such-batch"})
    assert (unknown.status_code, unknown.json()) == (404, NOT_FOUND)


def test_record_actions_need_the_record(api: httpx.Client) -> None:
    patient = api.get("/api/patients").json()["results"][0]
    access = api.get(f"/api/patients/{patient['id']}/onpatient_access")
    assert (access.status_code, access.json()) == (200, patient)
    for path in ("/api/patients/987654321/ccda", "/api/patients/abc/onpatient_access"):
        response = api.get(path)
        assert (response.status_code, response.json()) == (404, NOT_FOUND)


# --- every error class a client must handle, triggered over HTTP alone (README) ---------------


def test_a_token_authorized_for_fewer_scopes_is_403(sb: Sandbox) -> None:
    # The sandbox approves an authorization at once: a collection asks for fewer scopes.
    approved = httpx.get(
        f"{sb.base_url}/o/authorize/",
        params={
            "response_type": "code",
            "client_id": sb.client_id,
            "redirect_uri": sb.redirect_uri,
            "scope": "user:read",
        },
    )
    code = httpx.URL(approved.headers["location"]).params["code"]
    token = httpx.post(
        f"{sb.base_url}/o/token/",
        data={
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": sb.redirect_uri,
            "client_id": sb.client_id,
            "client_secret": sb.client_secret,
        },
    ).json()["access_token"]
    headers = {"Authorization": f"Bearer {token}"}
    refused = httpx.get(f"{sb.base_url}/api/line_items", headers=headers)
    assert (refused.status_code, refused.json()) == (
        403,
        {"detail": "You do not have permission to perform this action."},
    )
    assert httpx.get(f"{sb.base_url}/api/doctors", headers=headers).status_code == 200


def test_a_bad_token_is_401(sb: Sandbox) -> None:
    response = httpx.get(
        f"{sb.base_url}/api/line_items", headers={"Authorization": "Bearer expired-or-made-up"}
    )
    assert response.status_code == 401
    assert response.json() == {"detail": "Authentication credentials were not provided."}
    assert 'error="invalid_token"' in response.headers["www-authenticate"]


def test_a_request_asks_for_its_own_fault(api: httpx.Client) -> None:
    throttled = api.get("/api/line_items", headers={"X-Sandbox-Fault": "429"})
    assert (throttled.status_code, throttled.json()) == (429, {"detail": "Request was throttled."})
    waited = api.get(
        "/api/line_items", headers={"X-Sandbox-Fault": "429", "X-Sandbox-Retry-After": "7"}
    )
    assert waited.status_code == 429 and waited.headers["retry-after"] == "7"
    assert api.get("/api/line_items", headers={"X-Sandbox-Fault": "503"}).status_code == 503
    assert api.get("/api/line_items").status_code == 200  # once: the next request is served
    unknown = api.get("/api/line_items", headers={"X-Sandbox-Fault": "teapot"})
    assert unknown.status_code == 400 and "teapot" in unknown.json()["detail"]


def test_derived_records_survive_a_restart(tmp_path: Path) -> None:
    config = SandboxConfig(seed=4, state_file=tmp_path / "state.json", patients=2, appointments=2)
    with Sandbox(config) as first:
        headers = {"Authorization": f"Bearer {access_token(first)}"}
        seeded = httpx.get(f"{first.base_url}/api/consent_forms", headers=headers).json()
        body = writable("consent_forms", seeded["results"][0]) | {"title": "Telehealth consent"}
        created = httpx.post(f"{first.base_url}/api/consent_forms", headers=headers, json=body)
        assert created.status_code == 201
    with Sandbox(config) as second:
        headers = {"Authorization": f"Bearer {access_token(second)}"}
        listed = httpx.get(f"{second.base_url}/api/consent_forms", headers=headers).json()
        # The seeded records are not seeded twice; the created one is still there.
        assert listed["results"] == [*seeded["results"], created.json()]


def test_a_number_filter_that_is_not_a_number_is_400(api: httpx.Client) -> None:
    # A placeholder sent as it stands is refused naming the filter, not answered with nothing.
    response = api.get("/api/line_items", params={"patient": "<integer>"})
    assert (response.status_code, response.json()) == (400, {"patient": ["Enter a number."]})
    assert api.get("/api/patients", params={"page_size": "<integer>"}).status_code == 200


def test_derived_records_follow_the_anchor_day_not_the_clock() -> None:
    # The harness fixes the anchor day so recordings repeat: derived records must follow it.
    def seeded(anchor: dt.date) -> list[Any]:
        config = SandboxConfig(seed=4, patients=1, appointments=1, anchor_date=anchor)
        with Sandbox(config) as sandbox:
            headers = {"Authorization": f"Bearer {access_token(sandbox)}"}
            answer = httpx.get(f"{sandbox.base_url}/api/care_plans", headers=headers)
            results: list[Any] = answer.json()["results"]
            return results

    day = dt.date(2024, 3, 15)
    first = seeded(day)
    assert first == seeded(day)
    assert all(str(p["created_at"]) <= "2024-04-15" for p in first if p.get("created_at"))
