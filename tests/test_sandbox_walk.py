"""Every operation of DrChrono's OpenAPI document answers without a server error."""

from __future__ import annotations

import re

import httpx

from drchrono_sandbox import Sandbox, SandboxConfig
from drchrono_sandbox.api import stateful_kind
from drchrono_sandbox.openapi_ops import load_document


def test_every_operation_answers_without_5xx() -> None:
    doc = load_document()
    stateful: list[str] = []
    generated: list[str] = []
    failures: list[str] = []
    with Sandbox(SandboxConfig(seed=2, patients=5, appointments=5)) as sb:
        token = httpx.post(
            f"{sb.base_url}/o/token/",
            auth=(sb.client_id, sb.client_secret),
            data={"grant_type": "refresh_token", "refresh_token": sb.refresh_token},
        ).json()
        existing = {name: next(iter(sb.store.table(name)), "1") for name in sb.store.records}
        with httpx.Client(
            base_url=sb.base_url,
            timeout=10,
            headers={"Authorization": f"Bearer {token['access_token']}"},
        ) as api:
            for op in doc.operations:
                resource = op.template.split("/")[2]
                path = re.sub(r"\{[^}]+\}", existing.get(resource, "1"), op.template)
                params = {"since": "2000-01-01"} if resource == "appointments" else {}
                response = api.request(
                    op.method,
                    path,
                    params=params,
                    json={} if op.method in ("POST", "PUT", "PATCH") else None,
                )
                (stateful if stateful_kind(op) else generated).append(op.key)
                if response.status_code >= 500 or response.status_code in (401, 403, 405):
                    failures.append(f"{op.key} -> {response.status_code} {response.text[:80]}")
    print(f"\nstateful ({len(stateful)}):", *sorted(stateful), sep="\n  ")
    print(f"generated ({len(generated)}):", len(generated), "operations")
    assert not failures, "\n".join(failures)
    assert len(stateful) + len(generated) == len(doc.operations) == 327
    assert "GET /api/patients" in stateful and "POST /api/appointments" in stateful
    assert "GET /api/lab_orders/{id}" in generated


def test_generated_answers_are_deterministic_and_paginated() -> None:
    with Sandbox(SandboxConfig(seed=2, patients=3, appointments=3)) as sb:
        token = httpx.post(
            f"{sb.base_url}/o/token/",
            auth=(sb.client_id, sb.client_secret),
            data={"grant_type": "refresh_token", "refresh_token": sb.refresh_token},
        ).json()
        headers = {"Authorization": f"Bearer {token['access_token']}"}
        first = httpx.get(f"{sb.base_url}/api/lab_orders/42", headers=headers).json()
        second = httpx.get(f"{sb.base_url}/api/lab_orders/42", headers=headers).json()
        assert first == second and first["id"] == 42
        listing = httpx.get(f"{sb.base_url}/api/lab_orders", headers=headers).json()
        assert set(listing) == {"previous", "results", "next"} and listing["results"]
