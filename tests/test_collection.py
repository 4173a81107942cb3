"""The Postman collection model: versions, inheritance, URLs, bodies, scripts, errors."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from harness.collection import load_collection
from harness.errors import InputError
from harness.paths import DEFAULT_COLLECTION

V21 = "https://schema.getpostman.com/json/collection/v2.1.0/collection.json"
V20 = "https://schema.getpostman.com/json/collection/v2.0.0/collection.json"


def write(tmp_path: Path, document: object, name: str = "c.json") -> Path:
    path = tmp_path / name
    path.write_text(json.dumps(document))
    return path


def test_drchrono_collection_has_folders_oauth2_and_chained_captures() -> None:
    collection = load_collection(DEFAULT_COLLECTION)
    assert collection.schema_version == "2.1"
    names = [r.full_name for r in collection.requests()]
    assert "Users/Current user" in names and "Appointments/Create appointment" in names
    assert collection.auth is not None and collection.auth.type == "oauth2"
    assert collection.auth.params["grant_type"] == "authorization_code"
    assert "calendar:write" in collection.auth.params["scope"]
    create = collection.find("Patients/Create patient")
    assert create is not None
    assert create.expected_statuses == (201,)
    assert [c.variable for c in create.captures] == ["patient_id"]
    assert all(r.auth is not None and r.auth.type == "oauth2" for r in collection.requests())


def test_auth_inherits_from_folder_and_noauth_stops_it(tmp_path: Path) -> None:
    document = {
        "info": {"name": "x", "schema": V21},
        "auth": {"type": "bearer", "bearer": [{"key": "token", "value": "{{tok}}"}]},
        "item": [
            {
                "name": "F",
                "auth": {"type": "basic", "basic": [{"key": "username", "value": "u"}]},
                "item": [
                    {"name": "inherits folder", "request": {"url": "http://h/a"}},
                    {"name": "none", "request": {"url": "http://h/b", "auth": {"type": "noauth"}}},
                ],
            },
            {"name": "inherits collection", "request": {"url": "http://h/c", "method": "post"}},
        ],
    }
    requests = {r.name: r for r in load_collection(write(tmp_path, document)).requests()}
    assert requests["inherits folder"].auth.type == "basic"  # type: ignore[union-attr]
    assert requests["none"].auth is None
    assert requests["inherits collection"].auth.type == "bearer"  # type: ignore[union-attr]
    assert requests["inherits collection"].method == "POST"


def test_v20_object_auth_string_headers_and_url_objects(tmp_path: Path) -> None:
    document = {
        "info": {"name": "old", "schema": V20},
        "auth": {"type": "oauth2", "oauth2": {"accessTokenUrl": "https://h/o/token/"}},
        "item": [
            {
                "name": "r",
                "request": {
                    "method": "GET",
                    "header": "Accept: application/json\nX-A: 1",
                    "url": {
                        "host": ["{{base}}"],
                        "path": ["api", "patients", ":id"],
                        "query": [
                            {"key": "a", "value": "1"},
                            {"key": "b", "value": "2", "disabled": True},
                        ],
                        "variable": [{"key": "id", "value": "{{pid}}"}],
                    },
                },
                "response": [{"name": "ok", "code": 200}],
            }
        ],
    }
    collection = load_collection(write(tmp_path, document))
    assert collection.schema_version == "2.0"
    request = next(collection.requests())
    assert (
        request.auth is not None and request.auth.params["accessTokenUrl"] == "https://h/o/token/"
    )
    assert [h.key for h in request.headers] == ["Accept", "X-A"]
    assert request.url.raw == "{{base}}/api/patients/:id"
    assert [q.key for q in request.url.query if not q.disabled] == ["a"]
    assert request.expected_statuses == (200,)  # from the saved example


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        ("{not json", "not valid JSON (line 1, column 2"),
        (
            json.dumps({"info": {"name": "x", "schema": "https://x/v3.0.0/"}, "item": []}),
            "only Postman collection v2.0.0 and v2.1.0",
        ),
        (json.dumps({"requests": [], "order": []}), "Postman v1 collection"),
        (json.dumps([1, 2]), "top level is not an object"),
        (
            json.dumps({"info": {"name": "x", "schema": V21}, "item": [{"name": "bad"}]}),
            "bad: the item has neither",
        ),
    ],
)
def test_bad_collections_name_the_file_and_problem(
    tmp_path: Path, content: str, expected: str
) -> None:
    path = tmp_path / "bad.json"
    path.write_text(content)
    with pytest.raises(InputError) as caught:
        load_collection(path)
    assert expected in str(caught.value)
    assert str(path) in str(caught.value)


def test_missing_collection_file_is_clear(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="does not exist"):
        load_collection(tmp_path / "nope.json")


def test_bodies_of_every_mode(tmp_path: Path) -> None:
    def item(name: str, body: dict[str, object]) -> dict[str, object]:
        return {"name": name, "request": {"method": "POST", "url": "http://h/x", "body": body}}

    document = {
        "info": {"name": "b", "schema": V21},
        "item": [
            item(
                "raw", {"mode": "raw", "raw": '{"a": 1}', "options": {"raw": {"language": "json"}}}
            ),
            item("form", {"mode": "urlencoded", "urlencoded": [{"key": "k", "value": "v"}]}),
            item(
                "multi",
                {"mode": "formdata", "formdata": [{"key": "f", "type": "file", "src": "a.txt"}]},
            ),
            item("file", {"mode": "file", "file": {"src": "b.bin"}}),
            item("gql", {"mode": "graphql", "graphql": {"query": "{ a }", "variables": "{}"}}),
        ],
    }
    bodies = {r.name: r.body for r in load_collection(write(tmp_path, document)).requests()}
    assert bodies["raw"] is not None and bodies["raw"].language == "json"
    assert bodies["form"] is not None and bodies["form"].fields[0].value == "v"
    assert bodies["multi"] is not None and bodies["multi"].fields[0].src == "a.txt"
    assert bodies["file"] is not None and bodies["file"].file_src == "b.bin"
    assert bodies["gql"] is not None and bodies["gql"].graphql_query == "{ a }"


def test_select_by_folder_request_and_path(tmp_path: Path) -> None:
    collection = load_collection(DEFAULT_COLLECTION)
    assert {r.suite for r in collection.select(["Patients"])} == {"Patients"}
    assert [r.name for r in collection.select(["Retrieve doctor"])] == ["Retrieve doctor"]
    assert len(collection.select(["Offices/List offices"])) == 1
    with pytest.raises(InputError, match="Top-level folders are"):
        collection.select(["Nope"])
    # Exact names, as Newman's --folder: a prefix of a name is not that name.
    with pytest.raises(InputError, match="matches no folder"):
        collection.select(["Patient"])
    with pytest.raises(InputError, match="matches no folder"):
        collection.select(["Offices/List"])


def test_large_collection_loads(tmp_path: Path) -> None:
    """A 10 MB, 300+ request collection loads (speed is measured in benchmarks/, not here)."""
    big_body = json.dumps({"note": "x" * 30_000})
    items = [
        {
            "name": f"r{i}",
            "request": {
                "method": "POST",
                "url": "{{base}}/api/p/" + str(i),
                "body": {"mode": "raw", "raw": big_body},
            },
        }
        for i in range(340)
    ]
    path = write(tmp_path, {"info": {"name": "big", "schema": V21}, "item": items})
    assert path.stat().st_size > 10_000_000
    assert len(list(load_collection(path).requests())) == 340


def test_not_run_lists_only_the_scripts_a_selection_leaves_unexecuted(tmp_path: Path) -> None:
    def folder(name: str) -> dict[str, object]:
        return {
            "name": name,
            "event": [{"listen": "test", "script": {"exec": ["// only a comment", "check();"]}}],
            "item": [{"name": f"{name} request", "request": "http://h/x"}],
        }

    document = {
        "info": {"name": "n", "schema": V21},
        "event": [
            {"listen": "prerequest", "script": {"exec": "setup();"}},
            {"listen": "test", "disabled": True, "script": {"exec": ["off();"]}},
        ],
        "item": [folder("A"), folder("B")],
    }
    collection = load_collection(write(tmp_path, document))
    not_run = collection.not_run(collection.select(["B"]))
    assert [str(n) for n in not_run] == [
        "the collection: pre-request script line 1: JavaScript the harness does not run",
        "folder B: test script line 2: JavaScript the harness does not run",
    ]
    assert collection.not_run([]) == []
