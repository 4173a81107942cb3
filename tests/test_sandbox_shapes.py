"""The sandbox shapes its data by the corrected contract schemas, not the published document."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from faker import Faker

from drchrono_sandbox.errors import SandboxError
from drchrono_sandbox.generate import ValueMaker, with_faker
from drchrono_sandbox.shapes import ContractShapes, load_shapes, primary_type

ROOM: dict[str, Any] = {"type": "object", "properties": {"index": {"type": ["integer", "null"]}}}
OFFICE: dict[str, Any] = {
    "type": "object",
    "properties": {
        "id": {"type": "integer"},
        "exam_rooms": {"type": ["array", "null"], "items": {"$ref": "Room.json"}},
        "schedule": {"anyOf": [{"$ref": "Room.json"}, {"type": "null"}], "title": "Schedule"},
    },
}
LIST: dict[str, Any] = {
    "type": "object",
    "properties": {
        "results": {"type": "array", "items": {"$ref": "../Office.json"}},
        "next": {"type": ["string", "null"]},
        "previous": {"type": ["string", "null"]},
    },
}


def small_shapes() -> ContractShapes:
    operations = {
        "GET /api/offices": {
            "responses": {"200": {"schema": "schemas/lists/Office.json"}, "401": {"schema": None}}
        }
    }
    return ContractShapes(
        operations,
        {
            "schemas/Room.json": ROOM,
            "schemas/Office.json": OFFICE,
            "schemas/lists/Office.json": LIST,
        },
    )


def test_refs_and_nullable_branches_resolve_to_components() -> None:
    shapes = small_shapes()
    assert set(shapes.components) == {"Room", "Office"}
    assert shapes.resolve(LIST["properties"]["results"]["items"]) == OFFICE
    schedule = shapes.resolve(OFFICE["properties"]["schedule"])
    assert schedule == {**ROOM, "title": "Schedule"}
    assert shapes.response("GET /api/offices", 200) == LIST
    assert shapes.response("GET /api/offices", 401) is None
    assert shapes.response("GET /api/nothing", 200) is None


def test_primary_type_skips_null() -> None:
    assert primary_type({"type": ["integer", "null"]}) == "integer"
    assert primary_type({"type": "string"}) == "string"
    assert primary_type({"type": ["null"]}) is None
    assert primary_type({}) is None


def test_generated_values_take_the_non_null_type_and_known_ids_where_they_fit() -> None:
    shapes = small_shapes()
    schema = {
        "type": "object",
        "properties": {
            "patient": {"type": ["integer", "null"]},
            "doctor": {"type": "object", "properties": {"id": {"type": "integer"}}},
            "office": {"$ref": "Office.json"},
        },
    }

    def make(fake: Faker) -> Any:
        return ValueMaker(
            fake, shapes.resolve, refs={"patient": 80_001_201, "doctor": 278_001}
        ).value(schema)

    value = with_faker(3, make)
    assert value["patient"] == 80_001_201
    assert isinstance(value["doctor"], dict)  # an id never stands in for an object
    assert isinstance(value["office"]["id"], int)
    assert all(isinstance(room["index"], int) for room in value["office"]["exam_rooms"])
    assert with_faker(3, make) == value


def test_the_shipped_contracts_correct_what_the_document_gets_wrong() -> None:
    shapes = load_shapes()
    office = shapes.components["Office"]["properties"]
    assert primary_type(office["exam_rooms"]) == "array"
    assert primary_type(shapes.components["CarePlan"]["properties"]["patient"]) == "integer"
    assert "" in shapes.components["Patient"]["properties"]["race"]["enum"]
    assert primary_type(shapes.components["Appointment"]["properties"]["id"]) == "string"


def test_missing_contracts_are_one_clear_error(tmp_path: Path) -> None:
    with pytest.raises(SandboxError, match=str(tmp_path)) as caught:
        load_shapes(tmp_path)
    assert "harness contracts import" in (caught.value.hint or "")
    (tmp_path / "index.json").write_text("[]")
    with pytest.raises(SandboxError, match="not a contract index"):
        load_shapes(tmp_path)
