"""Reviewed departures from DrChrono's published OpenAPI document (``contracts/corrections.yaml``).

Each correction is data with an ``id``, a ``kind`` and a one-line ``reason``; it is applied to the
parsed OpenAPI document before conversion. A correction that changes nothing is stale (DrChrono
fixed their document, or a target moved) and stops the import, so the list never silently rots.
"""

from __future__ import annotations

import copy
import fnmatch
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from harness.contracts import pointer
from harness.contracts.bodies import BODY_SHAPES
from harness.errors import InputError
from harness.safe_yaml import safe_load

HTTP_METHODS = ("get", "put", "post", "delete", "patch", "head", "options")
SCHEMA_TYPES = ("string", "integer", "number", "boolean", "object", "array")


@dataclass(frozen=True)
class Correction:
    id: str
    kind: str
    reason: str
    params: dict[str, Any]
    where: str  # "corrections.yaml, correction 'id'" for messages


def load_corrections(path: Path) -> list[Correction]:
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise InputError(f"Cannot read corrections file {path}: {exc.strerror}.") from None
    try:
        data = safe_load(text)  # with the nesting limit every YAML loader here has
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = f" line {mark.line + 1}" if mark is not None else ""
        problem = getattr(exc, "problem", None)
        problem = f": {problem}" if problem else ""
        raise InputError(f"Corrections file {path}{line} is not valid YAML{problem}.") from None
    return parse_corrections(data, str(path))


def parse_corrections(data: Any, source: str) -> list[Correction]:
    if not isinstance(data, dict) or not isinstance(data.get("corrections"), list):
        raise InputError(
            f"Corrections file {source} must be a mapping with a 'corrections' list.",
            hint="See contracts/corrections.yaml for the format.",
        )
    result: list[Correction] = []
    seen: set[str] = set()
    for index, item in enumerate(data["corrections"]):
        where = f"{source}, correction #{index + 1}"
        if not isinstance(item, dict):
            raise InputError(f"{where} must be a mapping with id, kind and reason.")
        cid, kind, reason = item.get("id"), item.get("kind"), item.get("reason")
        if not isinstance(cid, str) or not cid:
            raise InputError(f"{where} has no 'id'.")
        where = f"{source}, correction '{cid}'"
        if cid in seen:
            raise InputError(f"{where} is listed twice; ids must be unique.")
        seen.add(cid)
        if kind not in _APPLIERS:
            raise InputError(
                f"{where} has unknown kind {kind!r}.",
                hint=f"Use one of: {', '.join(sorted(_APPLIERS))}.",
            )
        if not isinstance(reason, str) or not reason.strip():
            raise InputError(f"{where} needs a one-line 'reason' saying why it departs.")
        params = {k: v for k, v in item.items() if k not in ("id", "kind", "reason")}
        result.append(Correction(cid, kind, reason.strip(), params, where))
    return result


def apply_corrections(
    document: dict[str, Any],
    corrections: list[Correction],
    *,
    disabled: frozenset[str] = frozenset(),
) -> dict[str, Any]:
    """A corrected deep copy of ``document``. ``disabled`` ids are skipped (tests use this)."""
    corrected = copy.deepcopy(document)
    for correction in corrections:
        if correction.id in disabled:
            continue
        changed = _APPLIERS[correction.kind](corrected, correction)
        if changed == 0:
            raise InputError(
                f"{correction.where} ({correction.kind}) changed nothing in the document: "
                "it is stale.",
                hint="Check whether DrChrono fixed the document, then update or remove it.",
            )
    return corrected


# --- walking -------------------------------------------------------------------------------


def iter_schemas(document: dict[str, Any]) -> Iterator[tuple[str, dict[str, Any]]]:
    """Every schema object in the document (components, responses, parameters), with pointer."""
    for name, schema in (document.get("components", {}).get("schemas") or {}).items():
        yield from _walk_schema(schema, pointer.join("/components/schemas", name))
    for path, item in (document.get("paths") or {}).items():
        if not isinstance(item, dict):
            continue
        for method, op in item.items():
            if method not in HTTP_METHODS or not isinstance(op, dict):
                continue
            base = pointer.join("/paths", path, method)
            for i, param in enumerate(op.get("parameters") or []):
                if isinstance(param, dict) and isinstance(param.get("schema"), dict):
                    yield from _walk_schema(
                        param["schema"], pointer.join(base, "parameters", i, "schema")
                    )
            for status, response in (op.get("responses") or {}).items():
                content = response.get("content") if isinstance(response, dict) else None
                for media, body in (content or {}).items():
                    if isinstance(body, dict) and isinstance(body.get("schema"), dict):
                        yield from _walk_schema(
                            body["schema"],
                            pointer.join(base, "responses", status, "content", media, "schema"),
                        )


def _walk_schema(schema: Any, ptr: str) -> Iterator[tuple[str, dict[str, Any]]]:
    if not isinstance(schema, dict):
        return
    yield ptr, schema
    for name, sub in (schema.get("properties") or {}).items():
        yield from _walk_schema(sub, pointer.join(ptr, "properties", name))
    if "items" in schema:
        yield from _walk_schema(schema["items"], pointer.join(ptr, "items"))
    for key in ("allOf", "anyOf", "oneOf"):
        for i, sub in enumerate(schema.get(key) or []):
            yield from _walk_schema(sub, pointer.join(ptr, key, i))


def iter_operations(document: dict[str, Any]) -> Iterator[tuple[str, str, dict[str, Any]]]:
    for path, item in (document.get("paths") or {}).items():
        for method, op in (item or {}).items():
            if method in HTTP_METHODS and isinstance(op, dict):
                yield method.upper(), path, op


def _require(correction: Correction, key: str, kind: type | tuple[type, ...]) -> Any:
    value = correction.params.get(key)
    if not isinstance(value, kind):
        raise InputError(f"{correction.where} needs '{key}' ({correction.kind}).")
    return value


def _body(correction: Correction, name: Any) -> str:
    if name not in BODY_SHAPES:
        raise InputError(
            f"{correction.where} names unknown body shape {name!r}.",
            hint=f"Use one of: {', '.join(sorted(BODY_SHAPES))}.",
        )
    return str(name)


def _matches(patterns: list[str], method: str, path: str) -> bool:
    key = f"{method} {path}"
    return any(fnmatch.fnmatchcase(key, p) for p in patterns)


# --- kinds ---------------------------------------------------------------------------------


def _rename_type(doc: dict[str, Any], c: Correction) -> int:
    old, new = _require(c, "from", str), _require(c, "to", str)
    changed = 0
    for _, schema in iter_schemas(doc):
        if schema.get("type") == old:
            schema["type"] = new
            changed += 1
    return changed


def _drop_empty_required(doc: dict[str, Any], c: Correction) -> int:
    changed = 0
    for _, schema in iter_schemas(doc):
        if schema.get("required") == []:
            del schema["required"]
            changed += 1
    return changed


def _default_array_items(doc: dict[str, Any], c: Correction) -> int:
    items = c.params.get("items", {})
    changed = 0
    for _, schema in iter_schemas(doc):
        if schema.get("type") == "array" and "items" not in schema:
            schema["items"] = copy.deepcopy(items)
            changed += 1
    return changed


def _drop_ref_siblings(doc: dict[str, Any], c: Correction) -> int:
    changed = 0
    for _, schema in iter_schemas(doc):
        if "$ref" in schema and len(schema) > 1:
            ref = schema["$ref"]
            schema.clear()
            schema["$ref"] = ref
            changed += 1
    return changed


def _patch(doc: dict[str, Any], c: Correction) -> int:
    target = _require(c, "target", str)
    try:
        node = pointer.resolve(doc, target)
    except (KeyError, ValueError):
        raise InputError(
            f"{c.where}: target {target} does not exist in the document.",
            hint="The document changed; update the correction's target or remove it.",
        ) from None
    if not isinstance(node, dict):
        raise InputError(f"{c.where}: target {target} is not an object.")
    changed = 0
    for key in c.params.get("remove") or []:
        if key not in node:
            raise InputError(f"{c.where}: {target} has no '{key}' to remove: stale correction.")
        del node[key]
        changed += 1
    for key, value in (c.params.get("set") or {}).items():
        if node.get(key) != value:
            node[key] = copy.deepcopy(value)
            changed += 1
    return changed


def _property_type(doc: dict[str, Any], c: Correction) -> int:
    name, new_type = _require(c, "property", str), _require(c, "type", str)
    under = c.params.get("under", "/components/schemas")
    changed = 0
    for ptr, schema in iter_schemas(doc):
        prop = (schema.get("properties") or {}).get(name)
        if (
            ptr.startswith(under)
            and isinstance(prop, dict)
            and prop.get("type") not in (None, new_type)
        ):
            prop["type"] = new_type
            changed += 1
    return changed


def _nullable_properties(doc: dict[str, Any], c: Correction) -> int:
    except_names = set(c.params.get("except") or [])
    changed = 0
    for ptr, schema in iter_schemas(doc):
        if not ptr.startswith("/components/schemas"):
            continue
        props = schema.get("properties") or {}
        for name, prop in list(props.items()):
            if name in except_names or not isinstance(prop, dict) or prop.get("nullable"):
                continue
            if "$ref" in prop:  # OpenAPI 3.0 ignores siblings of $ref: wrap it instead
                props[name] = {"allOf": [prop], "nullable": True}
            else:
                prop["nullable"] = True
            changed += 1
    return changed


def _enum_add_value(doc: dict[str, Any], c: Correction) -> int:
    """Add ``value`` to every enum of ``type`` in component and response schemas.

    Parameter schemas describe requests, which contracts do not check, so they are left alone.
    An enum without a ``type`` counts when all its members are of that type.
    """
    if "value" not in c.params:
        raise InputError(f"{c.where} needs 'value' ({c.kind}).")
    value = c.params["value"]
    wanted = _require(c, "type", str)
    python_type = _PYTHON_TYPES.get(wanted)
    if python_type is None:
        raise InputError(f"{c.where}: 'type' must be one of {', '.join(sorted(_PYTHON_TYPES))}.")
    changed = 0
    for ptr, schema in iter_schemas(doc):
        enum = schema.get("enum")
        if "/parameters/" in ptr or not isinstance(enum, list) or value in enum:
            continue
        declared = schema.get("type")
        members_fit = all(
            isinstance(m, python_type) and not isinstance(m, bool) for m in enum if m is not None
        )
        if declared == wanted or (declared is None and enum and members_fit):
            enum.append(copy.deepcopy(value))
            changed += 1
    return changed


_PYTHON_TYPES: dict[str, type | tuple[type, ...]] = {
    "string": str,
    "integer": int,
    "number": (int, float),
}


def _is_envelope(schema: dict[str, Any], list_key: str) -> bool:
    props = schema.get("properties") or {}
    return (
        isinstance(props.get(list_key), dict)
        and props[list_key].get("type") == "array"
        and ("next" in props or "pagination" in props)
    )


def _list_envelope(doc: dict[str, Any], c: Correction) -> int:
    old, new = _require(c, "from", str), _require(c, "to", str)
    changed = 0
    for _, _, op in iter_operations(doc):
        for response in (op.get("responses") or {}).values():
            for body in ((response or {}).get("content") or {}).values():
                schema = (body or {}).get("schema")
                if not isinstance(schema, dict):
                    continue
                props = schema.get("properties") or {}
                if _is_envelope(schema, old):
                    props[new] = props.pop(old)
                elif not _is_envelope(schema, new):
                    continue
                for link in ("next", "previous"):
                    if isinstance(props.get(link), dict):
                        props[link]["nullable"] = True
                schema["required"] = sorted(set(schema.get("required") or []) | {new})
                changed += 1
    return changed


def _error_bodies(doc: dict[str, Any], c: Correction) -> int:
    statuses = _require(c, "statuses", dict)
    changed = 0
    for _, _, op in iter_operations(doc):
        for status, response in (op.get("responses") or {}).items():
            name = statuses.get(str(status))
            if name is None or not isinstance(response, dict):
                continue
            content = response.get("content") or {}
            has_schema = any(isinstance(b, dict) and "schema" in b for b in content.values())
            if not has_schema and "x-harness-body" not in response:
                response["x-harness-body"] = _body(c, name)
                changed += 1
    return changed


def _add_responses(doc: dict[str, Any], c: Correction) -> int:
    patterns = _require(c, "operations", list)
    statuses = _require(c, "statuses", dict)
    changed = 0
    for method, path, op in iter_operations(doc):
        if not _matches(patterns, method, path):
            continue
        responses = op.setdefault("responses", {})
        for status, name in statuses.items():
            if str(status) not in responses:
                responses[str(status)] = {
                    "description": f"added by correction {c.id}",
                    "x-harness-body": _body(c, name),
                }
                changed += 1
    return changed


def _add_operation(doc: dict[str, Any], c: Correction) -> int:
    method = _require(c, "method", str).lower()
    path = _require(c, "path", str)
    statuses = _require(c, "responses", dict)
    item = doc.setdefault("paths", {}).setdefault(path, {})
    if method in item:
        raise InputError(f"{c.where}: {method.upper()} {path} is already in the document: stale.")
    item[method] = {
        "operationId": c.params.get("operation_id", c.id),
        "security": [{"harness": list(c.params.get("scopes") or [])}],
        "responses": {str(s): _added_response(c, n) for s, n in statuses.items()},
    }
    if c.params.get("content_type"):
        item[method]["x-harness-content-type"] = c.params["content_type"]
    return 1


def _added_response(c: Correction, body: Any) -> dict[str, Any]:
    """A body shape name, or a "#/components/schemas/NAME" reference for a JSON body."""
    response: dict[str, Any] = {"description": f"added by correction {c.id}"}
    if isinstance(body, str) and body.startswith("#/components/schemas/"):
        response["content"] = {"application/json": {"schema": {"$ref": body}}}
    else:
        response["x-harness-body"] = _body(c, body)
    return response


_APPLIERS: dict[str, Callable[[dict[str, Any], Correction], int]] = {
    "rename_type": _rename_type,
    "drop_empty_required": _drop_empty_required,
    "default_array_items": _default_array_items,
    "drop_ref_siblings": _drop_ref_siblings,
    "patch": _patch,
    "property_type": _property_type,
    "nullable_properties": _nullable_properties,
    "enum_add_value": _enum_add_value,
    "list_envelope": _list_envelope,
    "error_bodies": _error_bodies,
    "add_responses": _add_responses,
    "add_operation": _add_operation,
}
