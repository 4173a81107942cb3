"""OpenAPI document + corrections -> JSON Schema files and ``index.json`` (the contract set).

``build_contracts`` is pure (document in, file contents out); ``import_contracts`` reads and writes.
Output is deterministic: sorted keys, two-space indent, trailing newline, files rewritten only
when their content changes, and generated files that are no longer produced are removed.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import yaml

from harness.contracts import pointer
from harness.contracts.bodies import BODY_SHAPES, SCHEMA_DIALECT
from harness.contracts.convert import ConversionProblem, convert_schema
from harness.contracts.corrections import (
    Correction,
    apply_corrections,
    iter_operations,
    iter_schemas,
    load_corrections,
)
from harness.contracts.requests import REQUESTS_FILE, build_request_index
from harness.errors import InputError
from harness.safe_yaml import FastNestingLimitedLoader

INDEX_FILE = "index.json"
SCHEMAS_DIR = "schemas"
INDEX_FORMAT = 1


def dump_json(data: Any) -> str:
    return json.dumps(data, sort_keys=True, indent=2, ensure_ascii=False) + "\n"


def load_openapi(path: Path) -> dict[str, Any]:
    """Parse ``path`` and check it is an OpenAPI 3.x document; errors name the file and pointer."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise InputError(f"Cannot read OpenAPI document {path}: {exc.strerror}.") from None
    return parse_openapi(text, str(path))


def parse_openapi(text: str, source: str) -> dict[str, Any]:
    try:
        # The nesting limit every YAML loader here has; libyaml's loader would crash on depth.
        document = yaml.load(text, Loader=FastNestingLimitedLoader)  # noqa: S506 - a SafeLoader
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" (line {mark.line + 1}, column {mark.column + 1})" if mark is not None else ""
        problem = getattr(exc, "problem", None)
        raise InputError(
            f"{source} is not valid YAML{where}{f': {problem}' if problem else ''}, "
            "at JSON pointer /.",
            hint="Give the path of DrChrono's OpenAPI 3.0 document (YAML or JSON).",
        ) from None
    if not isinstance(document, dict):
        raise InputError(f"{source}, at JSON pointer /: not an OpenAPI document (not a mapping).")
    version = document.get("openapi")
    if not isinstance(version, str) or not version.startswith("3."):
        raise InputError(
            f"{source}, at JSON pointer /openapi: not an OpenAPI 3.x document "
            f"(openapi is {version!r}).",
            hint="Only OpenAPI 3.0/3.1 documents can be imported.",
        )
    if not isinstance(document.get("paths"), dict):
        raise InputError(f"{source}, at JSON pointer /paths: an OpenAPI document needs 'paths'.")
    return document


def import_contracts(openapi_path: Path, out_dir: Path, corrections_path: Path) -> list[Path]:
    """Write the contract set into ``out_dir``; returns the files whose content changed."""
    document = load_openapi(openapi_path)
    corrections = load_corrections(corrections_path)
    files = build_contracts(document, corrections, source=openapi_path.name)
    return write_contracts(files, out_dir)


def write_contracts(files: dict[str, str], out_dir: Path) -> list[Path]:
    changed: list[Path] = []
    for relative, content in sorted(files.items()):
        target = out_dir / relative
        if target.exists() and target.read_text(encoding="utf-8") == content:
            continue
        target.parent.mkdir(parents=True, exist_ok=True)
        tmp = target.with_suffix(target.suffix + ".tmp")
        tmp.write_text(content, encoding="utf-8")
        tmp.replace(target)
        changed.append(target)
    schemas_root = out_dir / SCHEMAS_DIR
    if schemas_root.is_dir():  # remove schemas this import no longer produces (ours only)
        for stale in sorted(schemas_root.rglob("*.json")):
            if stale.relative_to(out_dir).as_posix() not in files:
                stale.unlink()
                changed.append(stale)
    return changed


def build_contracts(
    document: dict[str, Any],
    corrections: list[Correction],
    *,
    source: str = "openapi.yml",
    disabled: frozenset[str] = frozenset(),
) -> dict[str, str]:
    """File contents keyed by path relative to the contracts directory."""
    corrected = apply_corrections(document, corrections, disabled=disabled)
    try:
        return _Builder(corrected, source, document, corrections, disabled).build()
    except ConversionProblem as problem:
        raise InputError(
            f"OpenAPI document {source}, at JSON pointer {problem.pointer}: {problem.problem}.",
            hint=problem.hint,
        ) from None


class _Builder:
    def __init__(
        self,
        document: dict[str, Any],
        source: str,
        original: dict[str, Any],
        corrections: list[Correction],
        disabled: frozenset[str],
    ) -> None:
        self.doc = document
        self.source = source
        self.original_digest = hashlib.sha256(dump_json(original).encode()).hexdigest()
        self.correction_ids = [c.id for c in corrections if c.id not in disabled]
        self.components: dict[str, Any] = (document.get("components") or {}).get("schemas") or {}
        self.schemas: dict[str, dict[str, Any]] = {}  # relative file -> schema

    def build(self) -> dict[str, str]:
        self._check_parameter_schemas()
        for name in sorted(self.components):
            schema = convert_schema(
                self.components[name],
                pointer.join("/components/schemas", name),
                self.components,
                lambda ref: f"{ref}.json",
            )
            schema.setdefault("title", name)
            self._add(f"{SCHEMAS_DIR}/{name}.json", schema)
        for shape in BODY_SHAPES.values():
            if shape.schema_file and shape.schema is not None:
                self._add(shape.schema_file, dict(shape.schema))
        operations: dict[str, Any] = {}
        for method, path, op in iter_operations(self.doc):
            operations[f"{method} {path}"] = self._operation(method, path, op)
        index = {
            "format": INDEX_FORMAT,
            "generated_from": {
                "document": self.source,
                "document_sha256": self.original_digest,
                "corrections": self.correction_ids,
            },
            "operations": operations,
        }
        requests = build_request_index(self.doc, self.components, self._add, SCHEMAS_DIR)
        files = {
            name: dump_json({"$schema": SCHEMA_DIALECT, **s}) for name, s in self.schemas.items()
        }
        files[INDEX_FILE] = dump_json(index)
        files[REQUESTS_FILE] = dump_json(requests)
        return files

    def _check_parameter_schemas(self) -> None:
        # Parameters are not contracts yet, but an untranslatable one still means a bad document.
        for ptr, schema in iter_schemas(self.doc):
            if "/parameters/" in ptr and not ptr.endswith(("/items", "/properties")):
                t = schema.get("type")
                if t is not None and t not in (
                    "string",
                    "integer",
                    "number",
                    "boolean",
                    "object",
                    "array",
                ):
                    raise ConversionProblem(
                        pointer.join(ptr, "type"),
                        f"unknown type {t!r}",
                        "Add a rename_type correction to corrections.yaml.",
                    )

    def _add(self, relative: str, schema: dict[str, Any]) -> bool:
        existing = self.schemas.get(relative)
        if existing is not None and existing != schema:
            return False
        self.schemas[relative] = schema
        return True

    def _operation(self, method: str, path: str, op: dict[str, Any]) -> dict[str, Any]:
        base = pointer.join("/paths", path, method.lower())
        scopes: set[str] = set()
        for requirement in op.get("security") or []:
            for names in (requirement or {}).values():
                scopes.update(names or [])
        responses: dict[str, Any] = {}
        for status, response in (op.get("responses") or {}).items():
            status_text = str(status)
            if not (status_text.isdigit() and len(status_text) == 3):
                raise ConversionProblem(
                    pointer.join(base, "responses", status_text),
                    f"unsupported response key {status_text!r}",
                    "Use explicit status codes.",
                )
            responses[status_text] = self._response(
                op, status_text, response or {}, pointer.join(base, "responses", status_text)
            )
        success = [r["content_type"] for s, r in sorted(responses.items()) if s.startswith("2")]
        content_type = op.get("x-harness-content-type") or next((c for c in success if c), None)
        return {
            "method": method,
            "path": path,
            "operation_id": op.get("operationId"),
            "scopes": sorted(scopes),
            "permissions": sorted(op.get("x-permissions") or []),
            "content_type": content_type,
            "responses": dict(sorted(responses.items())),
        }

    def _response(
        self, op: dict[str, Any], status: str, response: dict[str, Any], ptr: str
    ) -> dict[str, Any]:
        shape_name = response.get("x-harness-body")
        if shape_name is not None:
            shape = BODY_SHAPES[shape_name]
            return {
                "body": shape.kind,
                "schema": shape.schema_file,
                "content_type": shape.content_type,
            }
        content = response.get("content") or {}
        if not content:
            # No body described: 204 promises emptiness; for anything else we cannot know.
            kind = "empty" if status == "204" else "any"
            return {"body": kind, "schema": None, "content_type": None}
        media = "application/json" if "application/json" in content else sorted(content)[0]
        body = content[media] or {}
        if media != "application/json":
            return {"body": "any", "schema": None, "content_type": media}
        raw = body.get("schema")
        if not isinstance(raw, dict) or not _has_assertions(raw):
            return {"body": "json", "schema": None, "content_type": media}
        return {
            "body": "json",
            "schema": self._response_schema(
                op, status, raw, pointer.join(ptr, "content", media, "schema")
            ),
            "content_type": media,
        }

    def _response_schema(
        self, op: dict[str, Any], status: str, raw: dict[str, Any], ptr: str
    ) -> str:
        if set(raw) == {"$ref"}:
            convert_schema(raw, ptr, self.components, lambda ref: ref)  # validates the ref
            return f"{SCHEMAS_DIR}/{raw['$ref'].rsplit('/', 1)[-1]}.json"
        schema = convert_schema(raw, ptr, self.components, lambda ref: f"../{ref}.json")
        item_ref = (
            ((schema.get("properties") or {}).get("results") or {}).get("items", {}).get("$ref")
        )
        if isinstance(item_ref, str) and set(schema.get("properties", {})) <= {
            "next",
            "previous",
            "results",
        }:
            name = item_ref.removeprefix("../").removesuffix(".json")
            schema["title"] = f"List of {name}"
            schema.pop("description", None)
            relative = f"{SCHEMAS_DIR}/lists/{name}.json"
            if self._add(relative, schema):
                return relative
        operation_id = op.get("operationId") or "operation"
        relative = f"{SCHEMAS_DIR}/operations/{operation_id}.{status}.json"
        self._add(relative, schema)
        return relative


def _has_assertions(schema: dict[str, Any]) -> bool:
    return any(k not in ("title", "description", "example", "examples") for k in schema)
