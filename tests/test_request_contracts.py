"""Request contracts (#16 part 5): what the published API would reject, named before sending."""

from __future__ import annotations

import json

import pytest

from harness.contracts import ContractSet
from harness.paths import CONTRACTS_DIR

BASE = "https://app.drchrono.com"


@pytest.fixture(scope="module")
def contracts() -> ContractSet:
    return ContractSet.load(CONTRACTS_DIR)


def test_required_query_parameters_and_their_types(contracts: ContractSet) -> None:
    check = contracts.check_request
    assert check("GET", f"{BASE}/api/insurances?payer_type=emdeon", None, None) == []
    assert check("GET", f"{BASE}/api/insurances", None, None) == [
        "required query parameter payer_type is missing"
    ]
    assert check("GET", f"{BASE}/api/patients?doctor=abc", None, None) == [
        "query parameter doctor is not an integer"
    ]
    assert check("GET", f"{BASE}/api/patients?doctor=12", None, None) == []
    assert check("GET", f"{BASE}/api/nowhere?x=1", None, None) == []  # not in the contracts


def test_a_json_body_against_the_request_schema(contracts: ContractSet) -> None:
    check = contracts.check_request
    url = f"{BASE}/api/appointments"
    body = {"doctor": 1, "exam_room": 1, "office": 1, "patient": 1, "scheduled_time": "x"}
    assert check("POST", url, "application/json", json.dumps(body).encode()) == []
    problems = check("POST", url, "application/json", json.dumps({"doctor": "one"}).encode())
    assert "body $.doctor: expected integer or null, got string of length 3" in problems
    assert "body $.patient: required field 'patient' is missing" in problems
    assert "one" not in " ".join(problems)  # never a value: it may be patient data
    # A PATCH may leave required fields out; a type is still checked.
    assert check("PATCH", f"{url}/5", "application/json", b'{"notes": "x"}') == []
    assert check("POST", url, "application/json", b"{not json") == [
        "the request body is not valid JSON"
    ]
    assert check("POST", url, None, None) == ["the request has no body; a JSON body is required"]
