"""The importer (determinism, broken documents), the diff and the CLI sub-commands."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

import pytest
import yaml

from harness.contracts import build_contracts, import_contracts
from harness.contracts.cli import register
from harness.contracts.importer import write_contracts
from harness.errors import InputError
from harness.paths import CONTRACTS_DIR, OPENAPI_DOCUMENT
from tests.test_contracts_support import CORRECTIONS_FILE, built_files


def test_committed_contracts_are_fresh() -> None:
    """contracts/ is exactly what the importer produces: re-run the import after any change."""
    for relative, content in built_files().items():
        assert (CONTRACTS_DIR / relative).read_text(encoding="utf-8") == content, relative
    on_disk = {
        p.relative_to(CONTRACTS_DIR).as_posix() for p in (CONTRACTS_DIR / "schemas").rglob("*.json")
    }
    assert on_disk == {k for k in built_files() if k.startswith("schemas/")}


def test_import_is_deterministic_and_idempotent(tmp_path: Path) -> None:
    first = import_contracts(OPENAPI_DOCUMENT, tmp_path, CORRECTIONS_FILE)
    assert (tmp_path / "index.json") in first and (tmp_path / "schemas/Patient.json") in first
    assert (tmp_path / "schemas/errors/drf_detail.json").exists()
    assert (tmp_path / "schemas/errors/drf_field_errors.json").exists()
    assert (tmp_path / "schemas/errors/oauth_error.json").exists()
    assert (tmp_path / "schemas/lists/Patient.json").exists()
    before = {p: p.read_bytes() for p in tmp_path.rglob("*.json")}
    assert import_contracts(OPENAPI_DOCUMENT, tmp_path, CORRECTIONS_FILE) == []
    assert {p: p.read_bytes() for p in tmp_path.rglob("*.json")} == before
    text = (tmp_path / "schemas/Patient.json").read_text()
    assert (
        text.endswith("}\n")
        and json.dumps(json.loads(text), sort_keys=True, indent=2, ensure_ascii=False) + "\n"
        == text
    )
    index = json.loads((tmp_path / "index.json").read_text())
    assert index["operations"]["GET /api/patients"]["scopes"] == ["patients:read", "patients:write"]
    assert index["operations"]["GET /api/patients"]["content_type"] == "application/json"


def test_stale_generated_schema_is_removed(tmp_path: Path) -> None:
    write_contracts(built_files(), tmp_path)
    stale = tmp_path / "schemas/Removed.json"
    stale.write_text("{}\n")
    keep = tmp_path / "corrections.yaml"
    keep.write_text("corrections: []\n")
    changed = write_contracts(built_files(), tmp_path)
    assert changed == [stale] and not stale.exists() and keep.exists()


def _broken_copy(tmp_path: Path, old: str, new: str) -> Path:
    text = OPENAPI_DOCUMENT.read_text(encoding="utf-8")
    assert old in text
    path = tmp_path / "broken-openapi.yml"
    path.write_text(text.replace(old, new, 1), encoding="utf-8")
    return path


@pytest.mark.parametrize(
    ("old", "new", "expected"),
    [
        (
            "$ref: '#/components/schemas/LabOrder'",
            "$ref: '#/components/schemas/LabOrdr'",
            "$ref points to missing schema '#/components/schemas/LabOrdr'",
        ),
        ("type: boolean", "type: flag", "unknown type 'flag'"),
    ],
)
def test_broken_document_names_file_and_pointer(
    tmp_path: Path, old: str, new: str, expected: str
) -> None:
    path = _broken_copy(tmp_path, old, new)
    with pytest.raises(InputError) as err:
        import_contracts(path, tmp_path / "out", CORRECTIONS_FILE)
    message = str(err.value)
    assert "broken-openapi.yml" in message and expected in message
    assert "at JSON pointer /" in message
    assert not (tmp_path / "out").exists()


def test_not_yaml_and_not_openapi(tmp_path: Path) -> None:
    not_yaml = tmp_path / "notes.yml"
    not_yaml.write_text("openapi: 3.0.0\npaths: {\n  bad: [\n")
    with pytest.raises(InputError, match=r"notes\.yml is not valid YAML \(line \d+"):
        import_contracts(not_yaml, tmp_path / "out", CORRECTIONS_FILE)
    swagger = tmp_path / "swagger.yml"
    swagger.write_text("swagger: '2.0'\npaths: {}\n")
    with pytest.raises(
        InputError, match=r"swagger\.yml, at JSON pointer /openapi: not an OpenAPI 3"
    ):
        import_contracts(swagger, tmp_path / "out", CORRECTIONS_FILE)


def test_stale_or_malformed_correction_is_refused(tmp_path: Path) -> None:
    # libyaml's safe loader and dumper: the same data as yaml.safe_load/safe_dump, many times faster.
    doc: dict[str, Any] = yaml.load(OPENAPI_DOCUMENT.read_text(), Loader=yaml.CSafeLoader)
    doc["components"]["schemas"]["Patient"]["properties"]["preferred_pharmacies"].pop("enum")
    path = tmp_path / "fixed.yml"
    path.write_text(yaml.dump(doc, Dumper=yaml.CSafeDumper))
    with pytest.raises(InputError, match="preferred-pharmacies-enum.*has no 'enum' to remove"):
        import_contracts(path, tmp_path / "out", CORRECTIONS_FILE)
    bad = tmp_path / "corrections.yaml"
    bad.write_text("corrections:\n  - id: x\n    kind: rename_type\n    from: a\n    to: b\n")
    # The corrections file is refused whatever the document; a small one keeps the test quick.
    small = tmp_path / "small.yml"
    small.write_text(yaml.safe_dump(_mini({"id": {"type": "integer"}}, ["id"])))
    with pytest.raises(InputError, match="correction 'x' needs a one-line 'reason'"):
        import_contracts(small, tmp_path / "out", bad)


# --- diff -----------------------------------------------------------------------------------


def _mini(
    patient_props: dict[str, Any],
    required: list[str],
    statuses: tuple[str, ...] = ("200", "404"),
    extra_op: bool = True,
) -> dict[str, Any]:
    responses: dict[str, Any] = {s: {"description": s} for s in statuses}
    responses["200"] = {
        "description": "OK",
        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Patient"}}},
    }
    paths: dict[str, Any] = {
        "/api/patients/{id}": {"get": {"operationId": "p", "responses": responses}}
    }
    if extra_op:
        paths["/api/offices"] = {
            "get": {"operationId": "o", "responses": {"200": {"description": "OK"}}}
        }
    return {
        "openapi": "3.0.0",
        "paths": paths,
        "components": {
            "schemas": {
                "Patient": {"type": "object", "required": required, "properties": patient_props}
            }
        },
    }


OLD_PROPS = {
    "id": {"type": "integer"},
    "gender": {"type": "string", "enum": ["Male", "Female", "UNK"]},
    "chart_id": {"type": "string"},
    "zip_code": {"type": "string"},
}


def _write(tmp_path: Path, name: str, doc: dict[str, Any]) -> Path:
    out = tmp_path / name
    write_contracts(build_contracts(doc, []), out)
    return out


def _run_cli(*argv: str) -> int:
    parser = argparse.ArgumentParser(prog="harness")
    register(parser.add_subparsers())
    args = parser.parse_args(list(argv))
    result: int = args.func(args)
    return result


def test_diff_breaking(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    new_props = {
        "id": {"type": "string"},
        "gender": {"type": "string", "enum": ["Male", "Female"]},
        "chart_id": {"type": "string"},
    }
    old = _write(tmp_path, "old", _mini(OLD_PROPS, ["id"]))
    new = _write(
        tmp_path, "new", _mini(new_props, ["id", "chart_id"], statuses=("200",), extra_op=False)
    )
    assert _run_cli("contracts", "diff", str(old), str(new)) == 1
    out = capsys.readouterr().out
    for line in (
        "BREAKING  GET /api/offices: operation removed",
        "BREAKING  GET /api/patients/{id} 404: status removed",
        "BREAKING  schemas/Patient.json: $.id: type integer -> string",
        "BREAKING  schemas/Patient.json: $.gender: enum value 'UNK' removed",
        "BREAKING  schemas/Patient.json: $.zip_code: field removed",
        "BREAKING  schemas/Patient.json: $.chart_id: now required",
    ):
        assert line in out.splitlines()
    assert "additive" not in out.split("\n")[0]


def test_diff_additive_only(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    new_props = {
        **OLD_PROPS,
        "gender": {"type": "string", "enum": ["Male", "Female", "UNK", "ASKU"]},
        "pronouns": {"type": "string"},
    }
    old = _write(tmp_path, "old", _mini(OLD_PROPS, ["id"], extra_op=False))
    new = _write(tmp_path, "new", _mini(new_props, ["id"], statuses=("200", "404", "429")))
    assert _run_cli("contracts", "diff", str(old), str(new)) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines == [
        "additive  GET /api/offices: operation added",
        "additive  GET /api/patients/{id} 429: status added",
        "additive  schemas/Patient.json: $.pronouns: field added",
        "additive  schemas/Patient.json: $.gender: enum value 'ASKU' added",
        "0 breaking, 4 additive change(s).",
    ]
    assert _run_cli("contracts", "diff", str(old), str(old)) == 0


def test_cli_import_and_coverage(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = _write(tmp_path, "c", _mini(OLD_PROPS, ["id"]))
    results = tmp_path / "results.json"
    results.write_text(
        json.dumps(
            {
                "results": [
                    {"operation": "GET /api/patients/{id}", "status": 200},
                    {"operation": None, "status": 200},
                ]
            }
        )
    )
    assert (
        _run_cli("contracts", "coverage", "--contracts", str(out), "--from", str(results), "--json")
        == 0
    )
    data = json.loads(capsys.readouterr().out)
    assert data["operations"] == {"exercised": 1, "total": 2}
    assert data["statuses"] == {"exercised": 1, "total": 3}
    assert _run_cli("contracts", "coverage", "--contracts", str(out), "--all") == 0
    assert "GET /api/offices" in capsys.readouterr().out
    assert (
        _run_cli(
            "contracts",
            "import",
            str(OPENAPI_DOCUMENT),
            "--out",
            str(tmp_path / "real"),
            "--corrections",
            str(CORRECTIONS_FILE),
        )
        == 0
    )
    assert "file(s) changed" in capsys.readouterr().out


def test_import_writes_into_the_working_directory_never_the_installed_package() -> None:
    # An installed harness keeps its contracts in site-packages: a default --out there would
    # write outside every directory the user named.
    parser = argparse.ArgumentParser(prog="harness")
    register(parser.add_subparsers())
    args = parser.parse_args(["contracts", "import", str(OPENAPI_DOCUMENT)])
    assert args.out == Path("contracts")
    assert not args.out.is_absolute()
