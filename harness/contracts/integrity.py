"""Checks that a contract directory is usable, before any response is judged against it.

``index.json`` and the schema files are generated, but people edit them and merges break them.
A wrong shape found while judging a response would surface in the middle of a run as a KeyError
or a jsonschema SchemaError; found at load, it is one :class:`InputError` naming the file.

Schema files are checked against the JSON Schema 2020-12 metaschema with jsonschema-rs, which
takes about a millisecond for all of DrChrono's; python-jsonschema's ``check_schema`` took
40-90 ms for each bundled schema and was most of the cost of a replayed run.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import jsonschema_rs

from harness.contracts.validation import json_path
from harness.errors import InputError

BODY_KINDS = ("empty", "any", "json")
_REGENERATE = "Regenerate the contracts with `harness contracts import`, or fix the file."


def check_index(index: Any, index_path: Path, schema_files: set[str], *, index_format: int) -> None:
    """Raise :class:`InputError` unless ``index`` has the shape ``ContractSet`` relies on."""
    if (
        not isinstance(index, dict)
        or index.get("format") != index_format
        or not isinstance(index.get("operations"), dict)
    ):
        raise InputError(
            f"{index_path} is not a contract index (format {index_format}).",
            hint="Regenerate it with `harness contracts import`.",
        )
    for key, op in index["operations"].items():
        problem = _operation_problem(key, op, schema_files)
        if problem is not None:
            raise InputError(f"{index_path}: operation {key!r} {problem}.", hint=_REGENERATE)


def _operation_problem(key: str, op: Any, schema_files: set[str]) -> str | None:
    if not isinstance(op, dict):
        return "is not an object"
    method, path = op.get("method"), op.get("path")
    if not isinstance(method, str) or not isinstance(path, str) or key != f"{method} {path}":
        return "needs a 'method' and a 'path' that make up its key (\"GET /api/doctors\")"
    scopes = op.get("scopes", [])
    if not isinstance(scopes, list) or not all(isinstance(s, str) for s in scopes):
        return "has 'scopes' that are not a list of strings"
    responses = op.get("responses")
    if not isinstance(responses, dict) or not responses:
        return "needs 'responses', an object of status code -> response"
    for status, response in responses.items():
        if not status.isdigit() or len(status) != 3:
            return f"has response key {status!r}, which is not an HTTP status code"
        if not isinstance(response, dict):
            return f"has response {status}, which is not an object"
        if response.get("body") not in BODY_KINDS:
            return f"has response {status} whose 'body' is not one of {', '.join(BODY_KINDS)}"
        content_type, schema = response.get("content_type"), response.get("schema")
        if content_type is not None and not isinstance(content_type, str):
            return f"has response {status} whose 'content_type' is not a string"
        if schema is not None and not isinstance(schema, str):
            return f"has response {status} whose 'schema' is not a file name"
        if schema is not None and schema not in schema_files:
            return f"has response {status} naming schema {schema}, which is missing"
    return None


def check_schema_file(path: Path, schema: Any) -> None:
    """Raise :class:`InputError` unless ``schema`` is a JSON Schema (2020-12) object."""
    if not isinstance(schema, dict):
        raise InputError(f"Contract schema {path} is not a JSON Schema object.", hint=_REGENERATE)
    if not isinstance(schema.get("$schema", ""), str):
        raise InputError(f"Contract schema {path}: '$schema' is not a URL.", hint=_REGENERATE)
    # Bundling replaces each file's $schema with 2020-12, so that is the dialect to check against
    # (and an unknown $schema URL must not make jsonschema-rs try to download it).
    body = {k: v for k, v in schema.items() if k != "$schema"}
    problem = _metaschema_problem(body)
    if problem is not None:
        raise InputError(
            f"Contract schema {path} is not a valid JSON Schema: {problem}.", hint=_REGENERATE
        )


def _metaschema_problem(schema: dict[str, Any]) -> str | None:
    try:
        jsonschema_rs.meta.validate(schema)
    except jsonschema_rs.ValidationError as error:
        return f"at {json_path(error.instance_path)}, {error.message}"
    except Exception as error:  # values jsonschema-rs cannot take at all (e.g. NaN)
        return f"{type(error).__name__}: {error}"
    return None
