"""Strict conversion of OpenAPI 3.0 schema objects to JSON Schema 2020-12.

Strict on purpose: anything the converter cannot translate faithfully (an unknown type, an array
without items, a ``$ref`` with siblings, an enum of non-scalars, ``required: []``) is an error
naming its JSON pointer. The fix is a correction in corrections.yaml, never a silent guess.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from harness.contracts import pointer
from harness.contracts.corrections import SCHEMA_TYPES

COMPONENT_PREFIX = "#/components/schemas/"

# Keys that change what validates; everything else must be a known annotation.
_ANNOTATIONS = {
    "title",
    "description",
    "readOnly",
    "writeOnly",
    "example",
    "examples",
    "deprecated",
    "externalDocs",
    "xml",
    "discriminator",
}
_KEPT_ANNOTATIONS = ("title", "description", "readOnly", "writeOnly", "deprecated")
_PASS_THROUGH = {
    "format",
    "minimum",
    "maximum",
    "minLength",
    "maxLength",
    "pattern",
    "minItems",
    "maxItems",
    "uniqueItems",
    "default",
    "exclusiveMinimum",
    "exclusiveMaximum",
}


class ConversionProblem(Exception):
    def __init__(self, ptr: str, problem: str, hint: str) -> None:
        self.pointer = ptr
        self.problem = problem
        self.hint = hint
        super().__init__(f"{ptr}: {problem}")


RefRewriter = Callable[[str], str]


def convert_schema(
    node: Any, ptr: str, components: dict[str, Any], rewrite_ref: RefRewriter
) -> dict[str, Any]:
    """``node`` (an OpenAPI schema object at ``ptr``) as a JSON Schema 2020-12 object."""
    if not isinstance(node, dict):
        raise ConversionProblem(ptr, "a schema must be an object", "Fix the document.")
    if "$ref" in node:
        return _convert_ref(node, ptr, components, rewrite_ref)
    out: dict[str, Any] = {}
    for key, value in node.items():
        if key in _KEPT_ANNOTATIONS:
            if value not in ("", None):
                out[key] = value
        elif key in _PASS_THROUGH:
            out[key] = value
        elif (
            key in _ANNOTATIONS
            or key.startswith("x-")
            or key
            in (
                "type",
                "nullable",
                "enum",
                "properties",
                "items",
                "required",
                "allOf",
                "anyOf",
                "oneOf",
                "additionalProperties",
            )
        ):
            continue
        else:
            raise ConversionProblem(
                pointer.join(ptr, key),
                f"unsupported schema keyword '{key}'",
                "Add support in harness/contracts/convert.py or a correction that removes it.",
            )
    nullable = node.get("nullable") is True
    schema_type = node.get("type")
    if schema_type is not None:
        if schema_type not in SCHEMA_TYPES:
            raise ConversionProblem(
                pointer.join(ptr, "type"),
                f"unknown type {schema_type!r}",
                "Add a rename_type correction (for example int -> integer) to corrections.yaml.",
            )
        out["type"] = [schema_type, "null"] if nullable else schema_type
    if "enum" in node:
        out["enum"] = _convert_enum(node["enum"], pointer.join(ptr, "enum"), nullable)
    if "properties" in node:
        props = node["properties"]
        if not isinstance(props, dict):
            raise ConversionProblem(pointer.join(ptr, "properties"), "must be an object", "Fix it.")
        out["properties"] = {
            name: convert_schema(
                sub, pointer.join(ptr, "properties", name), components, rewrite_ref
            )
            for name, sub in props.items()
        }
    if schema_type == "array" and "items" not in node:
        raise ConversionProblem(
            ptr,
            "array without 'items' (OpenAPI 3.0 requires it)",
            "Add a default_array_items correction or give this array its items.",
        )
    if "items" in node:
        out["items"] = convert_schema(
            node["items"], pointer.join(ptr, "items"), components, rewrite_ref
        )
    if "additionalProperties" in node:
        extra = node["additionalProperties"]
        out["additionalProperties"] = (
            extra
            if isinstance(extra, bool)
            else convert_schema(
                extra, pointer.join(ptr, "additionalProperties"), components, rewrite_ref
            )
        )
    if "required" in node:
        required = node["required"]
        if (
            not isinstance(required, list)
            or not required
            or not all(isinstance(r, str) for r in required)
        ):
            raise ConversionProblem(
                pointer.join(ptr, "required"),
                "'required' must be a non-empty list of names in OpenAPI 3.0",
                "Add a drop_empty_required correction or fix the list.",
            )
        out["required"] = sorted(set(required))
    for key in ("allOf", "anyOf", "oneOf"):
        if key in node:
            out[key] = [
                convert_schema(sub, pointer.join(ptr, key, i), components, rewrite_ref)
                for i, sub in enumerate(node[key])
            ]
    if nullable and schema_type is None:
        # A nullable composition (e.g. {"allOf": [{"$ref": ...}], "nullable": true}).
        inner = {k: v for k, v in out.items() if k not in _KEPT_ANNOTATIONS}
        if list(inner) == ["allOf"] and len(inner["allOf"]) == 1:
            inner = inner["allOf"][0]
        kept = {k: v for k, v in out.items() if k in _KEPT_ANNOTATIONS}
        return {**kept, "anyOf": [inner, {"type": "null"}]}
    return out


def _convert_ref(
    node: dict[str, Any], ptr: str, components: dict[str, Any], rewrite_ref: RefRewriter
) -> dict[str, Any]:
    ref = node["$ref"]
    if len(node) > 1:
        siblings = ", ".join(sorted(k for k in node if k != "$ref"))
        raise ConversionProblem(
            ptr,
            f"$ref has sibling keys ({siblings}), which OpenAPI 3.0 ignores but "
            "JSON Schema 2020-12 applies",
            "Add a drop_ref_siblings correction or remove the siblings.",
        )
    if not isinstance(ref, str) or not ref.startswith(COMPONENT_PREFIX):
        raise ConversionProblem(
            pointer.join(ptr, "$ref"),
            f"unsupported $ref {ref!r}",
            "Only local references to #/components/schemas/NAME are supported.",
        )
    name = ref[len(COMPONENT_PREFIX) :]
    if name not in components:
        raise ConversionProblem(
            pointer.join(ptr, "$ref"),
            f"$ref points to missing schema {ref!r}",
            "Fix the reference or add the schema to components.",
        )
    return {"$ref": rewrite_ref(name)}


def _convert_enum(values: Any, ptr: str, nullable: bool) -> list[Any]:
    if not isinstance(values, list) or not values:
        raise ConversionProblem(ptr, "'enum' must be a non-empty list", "Fix the document.")
    for i, value in enumerate(values):
        if isinstance(value, (list, dict)):
            raise ConversionProblem(
                pointer.join(ptr, i),
                "enum member is an array/object, so no real value can match",
                "Add a patch correction that removes or fixes this enum.",
            )
    result = list(values)
    if nullable and None not in result:
        result.append(None)
    return result
