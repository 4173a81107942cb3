"""Variable scopes, precedence, dynamic variables and Postman variable files."""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

import pytest

from harness.errors import InputError, UnresolvedVariableError
from harness.variables import Resolver, Scopes, load_variable_file, os_env_name, parse_assignments


def test_newman_precedence_globals_collection_environment_data_local() -> None:
    scopes = Scopes(os_environ={})
    resolver = Resolver(scopes)
    scopes.globals["v"] = "globals"
    assert resolver.resolve("{{v}}", "t") == "globals"
    scopes.collection["v"] = "collection"
    assert resolver.resolve("{{v}}", "t") == "collection"
    scopes.environment["v"] = "environment"
    assert resolver.resolve("{{v}}", "t") == "environment"
    scopes.environment_overrides["v"] = "--env-var"
    assert resolver.resolve("{{v}}", "t") == "--env-var"
    scopes.data["v"] = "data"
    assert resolver.resolve("{{v}}", "t") == "data"
    scopes.local["v"] = "local"
    assert resolver.resolve("{{v}}", "t") == "local"


def test_os_environment_supplies_secrets_above_the_file() -> None:
    scopes = Scopes(
        environment={"client_secret": "from-file"}, os_environ={"DRCHRONO_CLIENT_SECRET": "from-os"}
    )
    assert Resolver(scopes).resolve("{{client_secret}}", "t") == "from-os"
    assert os_env_name("client-id") == "DRCHRONO_CLIENT_ID"


def test_nested_variables_resolve_and_cycles_are_reported() -> None:
    scopes = Scopes(environment={"host": "h", "url": "https://{{host}}/api"}, os_environ={})
    assert Resolver(scopes).resolve("{{url}}/x", "t") == "https://h/api/x"
    scopes.environment.update({"a": "{{b}}", "b": "{{a}}"})
    with pytest.raises(InputError, match="loop"):
        Resolver(scopes).resolve("{{a}}", "request 'r'")


def test_unresolved_variable_names_itself_and_the_request() -> None:
    with pytest.raises(UnresolvedVariableError) as caught:
        Resolver(Scopes(os_environ={})).resolve("{{base_url}}/api", "request 'Users/Current user'")
    message = str(caught.value)
    assert "{{base_url}}" in message and "Users/Current user" in message
    assert "DRCHRONO_BASE_URL" in message


def test_dynamic_variables() -> None:
    resolver = Resolver(Scopes(os_environ={}))
    assert re.fullmatch(r"[0-9a-f-]{36}", resolver.resolve("{{$guid}}", "t"))
    assert resolver.resolve("{{$timestamp}}", "t").isdigit()
    assert resolver.resolve("{{$isoTimestamp}}", "t").endswith("Z")
    assert 0 <= int(resolver.resolve("{{$randomInt}}", "t")) <= 1000
    assert resolver.resolve("{{$guid}}", "t") != resolver.resolve("{{$guid}}", "t")
    assert resolver.resolve("{{$randomFirstName}}", "t").strip()
    assert resolver.resolve("{{$nope}}-{{$randomInt}}", "t").startswith("{{$nope}}-")


def test_environment_file_skips_disabled_values(tmp_path: Path) -> None:
    path = tmp_path / "env.json"
    path.write_text(
        json.dumps(
            {"values": [{"key": "a", "value": 1}, {"key": "b", "value": "x", "enabled": False}]}
        )
    )
    assert load_variable_file(path) == {"a": "1"}


def test_bad_environment_files(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="does not exist"):
        load_variable_file(tmp_path / "missing.json")
    bad = tmp_path / "bad.json"
    bad.write_text('{"values": [')
    with pytest.raises(InputError, match="not valid JSON"):
        load_variable_file(bad)
    bad.write_text('{"name": "x"}')
    with pytest.raises(InputError, match="no 'values' list"):
        load_variable_file(bad)


def test_env_var_assignments() -> None:
    assert parse_assignments(["a=1", "b=x=y"]) == {"a": "1", "b": "x=y"}
    with pytest.raises(InputError, match="NAME=VALUE"):
        parse_assignments(["novalue"])


def test_iteration_data_from_csv_and_json(tmp_path: Path) -> None:
    from harness.variables import load_iteration_data

    csv_file = tmp_path / "rows.csv"
    csv_file.write_text("gender,language\nFemale,eng\nMale,\n")
    assert load_iteration_data(csv_file) == [
        {"gender": "Female", "language": "eng"},
        {"gender": "Male", "language": ""},
    ]
    json_file = tmp_path / "rows.json"
    json_file.write_text('[{"n": 1, "name": "a"}, {"n": null}]')
    assert load_iteration_data(json_file) == [{"n": "1", "name": "a"}, {"n": ""}]
    json_file.write_text('{"n": 1}')
    with pytest.raises(InputError, match="list of objects"):
        load_iteration_data(json_file)
    csv_file.write_text('a\n"1,2\n')
    with pytest.raises(InputError, match="the quote that opens a cell is not closed on line 2"):
        load_iteration_data(csv_file)


def test_os_variables_are_read_when_the_run_starts(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DRCHRONO_CLIENT_ID", "from-os")
    monkeypatch.setenv("HOME_NOT_OURS", "x")
    scopes = Scopes(environment={"client_id": "from-file"})
    assert dict(scopes.os_environ) == {
        k: v for k, v in os.environ.items() if k.startswith("DRCHRONO_")
    }
    monkeypatch.setenv("DRCHRONO_CLIENT_ID", "changed-mid-run")
    assert Resolver(scopes).resolve("{{client_id}}", "test") == "from-os"
    assert scopes.child().lookup("client_id") == "from-os"
