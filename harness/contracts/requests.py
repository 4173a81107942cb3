"""Request contracts: what the published API accepts, so a request it would reject is named
before it is sent.

The importer writes ``requests.json`` beside ``index.json`` from the corrected document (one
entry per operation: its parameters with their converted schemas, and its request body's schema
file); :class:`RequestContract` is one entry at run time. Response contracts stay in
``index.json``; requests are a file of their own so that the response index keeps its format.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl, unquote, urlsplit

from harness.contracts import pointer
from harness.contracts.convert import convert_schema
from harness.contracts.corrections import iter_operations
from harness.contracts.operations import request_path
from harness.contracts.validation import CompiledSchema

REQUESTS_FILE = "requests.json"
REQUESTS_FORMAT = 1


@dataclass(frozen=True)
class Parameter:
    name: str
    location: str  # "query", "path", "header"
    required: bool
    schema: Mapping[str, Any]  # converted JSON Schema of the value

    @property
    def type(self) -> str | None:
        kind = self.schema.get("type")
        if isinstance(kind, list):  # nullable: ["integer", "null"]
            kind = next((k for k in kind if k != "null"), None)
        return kind if isinstance(kind, str) else None


@dataclass(frozen=True)
class RequestContract:
    """One operation's request side: ``operation`` is its key ("POST /api/appointments")."""

    operation: str
    parameters: tuple[Parameter, ...]
    body_media: str | None  # "application/json", "multipart/form-data"; None: no body documented
    body_required: bool
    body_schema: str | None  # schema file, relative to the contracts directory

    def parameter(self, location: str, name: str) -> Parameter | None:
        return next((p for p in self.parameters if p.location == location and p.name == name), None)

    @classmethod
    def from_json(cls, operation: str, data: Mapping[str, Any]) -> RequestContract:
        body = data.get("body") or {}
        return cls(
            operation=operation,
            parameters=tuple(
                Parameter(p["name"], p["in"], bool(p.get("required")), p.get("schema") or {})
                for p in data.get("parameters") or []
            ),
            body_media=body.get("content_type"),
            body_required=bool(body.get("required")),
            body_schema=body.get("schema"),
        )


def build_request_index(
    document: dict[str, Any],
    components: dict[str, Any],
    add_schema: Callable[[str, dict[str, Any]], bool],
    schemas_dir: str,
) -> dict[str, Any]:
    """``requests.json`` for the corrected ``document``; inline body schemas are added as files
    through ``add_schema`` (``schemas/requests/<operationId>.json``)."""
    operations: dict[str, Any] = {}
    for method, path, op in iter_operations(document):
        base = pointer.join("/paths", path, method.lower())
        parameters = []
        for i, param in enumerate(op.get("parameters") or []):
            if not isinstance(param, dict) or param.get("in") not in ("query", "path", "header"):
                continue
            raw = param.get("schema") if isinstance(param.get("schema"), dict) else {}
            schema = convert_schema(
                raw, pointer.join(base, "parameters", i, "schema"), components, lambda r: r
            )
            schema.pop("title", None)
            schema.pop("description", None)
            parameters.append(
                {
                    "name": param.get("name"),
                    "in": param.get("in"),
                    "required": bool(param.get("required")) or param.get("in") == "path",
                    "schema": schema,
                }
            )
        entry: dict[str, Any] = {"parameters": parameters}
        request_body = op.get("requestBody")
        if isinstance(request_body, dict) and isinstance(request_body.get("content"), dict):
            content = request_body["content"]
            media = "application/json" if "application/json" in content else sorted(content)[0]
            raw_schema = (content.get(media) or {}).get("schema")
            schema_file = None
            if isinstance(raw_schema, dict) and set(raw_schema) == {"$ref"}:
                schema_file = f"{schemas_dir}/{raw_schema['$ref'].rsplit('/', 1)[-1]}.json"
            elif isinstance(raw_schema, dict):
                converted = convert_schema(
                    raw_schema,
                    pointer.join(base, "requestBody", "content", media, "schema"),
                    components,
                    lambda ref: f"../{ref}.json",
                )
                name = op.get("operationId") or f"{method.lower()}{path.replace('/', '_')}"
                schema_file = f"{schemas_dir}/requests/{name}.json"
                add_schema(schema_file, converted)
            entry["body"] = {
                "content_type": media,
                "required": bool(request_body.get("required")),
                "schema": schema_file,
            }
        operations[f"{method} {path}"] = entry
    return {"format": REQUESTS_FORMAT, "operations": operations}


def check_request(
    contract: RequestContract,
    url: str,
    content_type: str | None,
    body: bytes | None,
    compiled: Callable[[str], CompiledSchema],
) -> list[str]:
    """See :meth:`ContractSet.check_request`."""
    problems: list[str] = []
    split = urlsplit(url)
    template = contract.operation.split(" ", 1)[1]
    path = request_path(url)
    for pattern, value in zip(template.split("/"), path.split("/"), strict=False):
        if pattern.startswith("{") and pattern.endswith("}"):
            param = contract.parameter("path", pattern[1:-1])
            if param is not None and not _fits(param, unquote(value)):
                problems.append(f"path parameter {param.name} is not {_kind(param)}")
    query: dict[str, list[str]] = {}
    for name, value in parse_qsl(split.query, keep_blank_values=True):
        query.setdefault(name, []).append(value)
    for param in contract.parameters:
        if param.location != "query":
            continue
        values = query.get(param.name)
        if not values:
            if param.required:
                problems.append(f"required query parameter {param.name} is missing")
            continue
        if not all(_fits(param, v) for v in values):
            problems.append(f"query parameter {param.name} is not {_kind(param)}")
    media = (content_type or "").split(";", 1)[0].strip().lower()
    if contract.body_media == "application/json" and contract.body_schema is not None:
        if not body:
            if contract.body_required:
                problems.append("the request has no body; a JSON body is required")
        elif media in ("application/json", "") or media.endswith("+json"):
            try:
                instance = json.loads(body)
            except ValueError:
                problems.append("the request body is not valid JSON")
            else:
                partial = contract.operation.startswith("PATCH ")
                problems += [
                    f"body {v}"
                    for v in compiled(contract.body_schema).violations(instance)
                    if not (partial and v.rule == "required")
                ]
    return problems


_INTEGER = re.compile(r"-?\d+")
_BOOLEANS = frozenset({"true", "false", "1", "0", "True", "False"})


def _fits(param: Parameter, value: str) -> bool:
    enum = param.schema.get("enum")
    if isinstance(enum, list) and enum and value not in [str(e) for e in enum if e is not None]:
        return False
    kind = param.type
    if kind == "integer":
        return _INTEGER.fullmatch(value) is not None
    if kind == "number":
        try:
            float(value)
        except ValueError:
            return False
        return True
    if kind == "boolean":
        return value in _BOOLEANS
    return True


def _kind(param: Parameter) -> str:
    enum = param.schema.get("enum")
    if isinstance(enum, list) and enum:
        return "one of its documented values"
    return {"integer": "an integer", "number": "a number", "boolean": "a boolean"}.get(
        param.type or "", "valid"
    )
