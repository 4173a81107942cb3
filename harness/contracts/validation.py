"""Compiled validators and PHI-free violations.

A :class:`CompiledSchema` is built once per schema file and shared between threads. Bodies take
the fast path: one jsonschema-rs ``is_valid`` against a closed copy of the schema answers "valid
and no drift" for most responses. Only the others are re-run through jsonschema-rs for validity,
the drift walk, and (when invalid) python-jsonschema, whose errors carry the paths and rules we
report; python-jsonschema is imported only then. Messages are built from the schema and the
instance's JSON *type* and length: never from instance values.
"""

from __future__ import annotations

import json
import re
from collections import defaultdict
from collections.abc import Iterable, Iterator
from typing import TYPE_CHECKING, Any

import jsonschema_rs

from harness.contracts import pointer
from harness.contracts.report import Violation

if TYPE_CHECKING:
    from jsonschema import Draft202012Validator
    from jsonschema.exceptions import ValidationError

MAX_VIOLATIONS = 50
_IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_INDEX = re.compile(r"\[\d+\]")


def json_type(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    if isinstance(value, dict):
        return "object"
    return type(value).__name__


def describe(value: Any) -> str:
    """The type and size of ``value``, never the value: "string of length 11"."""
    kind = json_type(value)
    if isinstance(value, str):
        return f"{kind} of length {len(value)}"
    if isinstance(value, (list, dict)):
        return f"{kind} of {len(value)} item{'s' if len(value) != 1 else ''}"
    return kind


def json_path(parts: Iterable[Any]) -> str:
    out = "$"
    for part in parts:
        if isinstance(part, int):
            out += f"[{part}]"
        elif _IDENTIFIER.match(str(part)):
            out += f".{part}"
        else:
            out += "[" + repr(str(part)) + "]"
    return out


class CompiledSchema:
    """One bundled schema with its validators; safe to share between threads."""

    def __init__(self, bundled: dict[str, Any]) -> None:
        self.schema = bundled
        # jsonschema-rs checks the schema as it compiles (an error here is a broken contract).
        self._fast = jsonschema_rs.validator_for(bundled, validate_formats=False)
        # A closed copy (no undocumented fields): a body it accepts is valid and has no drift.
        self._fast_closed = jsonschema_rs.validator_for(_closed(bundled), validate_formats=False)
        self._explainer: Draft202012Validator | None = None  # built for the first invalid body

    def check(self, instance: Any) -> tuple[list[Violation], list[str]]:
        """The violations and the drift (undocumented fields) of ``instance``."""
        if self._fast_closed.is_valid(instance):  # the common case: one call answers both
            return [], []
        return self.violations(instance), self.drift(instance)

    def violations(self, instance: Any) -> list[Violation]:
        if self._fast.is_valid(instance):
            return []
        result: list[Violation] = []
        seen: set[tuple[str, str]] = set()
        for error in self._explain().iter_errors(instance):
            for leaf in _leaves(error):
                for violation in _to_violations(leaf):
                    key = (violation.json_path, violation.rule)
                    if key not in seen:
                        seen.add(key)
                        result.append(violation)
            if len(result) >= MAX_VIOLATIONS:
                result = result[:MAX_VIOLATIONS]
                result.append(
                    Violation(
                        "$",
                        "truncated",
                        f"at most {MAX_VIOLATIONS}",
                        "more",
                        f"more than {MAX_VIOLATIONS} violations; the rest are not shown",
                    )
                )
                break
        return result

    def _explain(self) -> Draft202012Validator:
        """python-jsonschema's validator, whose errors say where and which rule (invalid only)."""
        if self._explainer is None:  # two threads may both build one; either serves
            from jsonschema import Draft202012Validator

            self._explainer = Draft202012Validator(self.schema)
        return self._explainer

    def drift(self, instance: Any) -> list[str]:
        """Fields present in ``instance`` that the schema does not describe (one path per field)."""
        if self._fast_closed.is_valid(instance):
            return []
        found: dict[str, str] = {}
        self._walk(self.schema, instance, "$", found)
        return list(found.values())

    # --- drift ----------------------------------------------------------------------------

    def _resolve(self, schema: Any) -> Any:
        while isinstance(schema, dict) and isinstance(schema.get("$ref"), str):
            schema = self._lookup(schema["$ref"])
        return schema

    def _lookup(self, ref: str) -> Any:
        node: Any = self.schema
        for token in pointer.split(ref.removeprefix("#")):
            node = node[int(token)] if isinstance(node, list) else node[token]
        return node

    def _walk(self, schema: Any, instance: Any, path: str, found: dict[str, str]) -> None:
        schema = self._resolve(schema)
        if not isinstance(schema, dict):
            return
        for key in ("anyOf", "oneOf"):
            if key in schema:
                branch = next((b for b in schema[key] if self._accepts_type(b, instance)), None)
                if branch is not None:
                    self._walk(branch, instance, path, found)
        for branch in schema.get("allOf", []):
            self._walk(branch, instance, path, found)
        if isinstance(instance, dict) and "properties" in schema:
            props = schema["properties"]
            extra = schema.get("additionalProperties")
            for name, value in instance.items():
                child = json_path([name]).replace("$", path, 1)
                if name in props:
                    self._walk(props[name], value, child, found)
                elif isinstance(extra, dict):
                    self._walk(extra, value, child, found)
                elif extra is not False:  # false is a violation, not drift
                    found.setdefault(_INDEX.sub("[*]", child), child)
        elif isinstance(instance, dict) and isinstance(schema.get("additionalProperties"), dict):
            for name, value in instance.items():
                child = json_path([name]).replace("$", path, 1)
                self._walk(schema["additionalProperties"], value, child, found)
        if isinstance(instance, list) and "items" in schema:
            for i, item in enumerate(instance):
                self._walk(schema["items"], item, f"{path}[{i}]", found)

    def _accepts_type(self, schema: Any, instance: Any) -> bool:
        schema = self._resolve(schema)
        if not isinstance(schema, dict):
            return True
        declared = schema.get("type")
        if declared is None:
            return True
        types = declared if isinstance(declared, list) else [declared]
        actual = json_type(instance)
        return actual in types or (actual == "integer" and "number" in types)


def _closed(schema: Any) -> Any:
    """``schema`` with additionalProperties: false wherever properties are listed and open."""
    if isinstance(schema, list):
        return [_closed(item) for item in schema]
    if not isinstance(schema, dict):
        return schema
    out: dict[str, Any] = {}
    for key, value in schema.items():
        if key in ("properties", "$defs") and isinstance(value, dict):  # maps of name -> schema
            out[key] = {name: _closed(sub) for name, sub in value.items()}
        elif key in ("enum", "const", "default", "examples"):
            out[key] = value
        else:
            out[key] = _closed(value)
    if "properties" in out and "additionalProperties" not in out:
        out["additionalProperties"] = False
    return out


def _leaves(error: ValidationError) -> Iterator[ValidationError]:
    """The errors a person should read; anyOf/oneOf descend into the branch of the right type."""
    if error.validator not in ("anyOf", "oneOf") or not error.context:
        yield error
        return
    branches: dict[Any, list[ValidationError]] = defaultdict(list)
    for sub in error.context:
        branches[sub.relative_schema_path[0]].append(sub)
    typed = [
        errs
        for errs in branches.values()
        if not any(e.validator == "type" and not e.relative_path for e in errs)
    ]
    if typed:
        for sub in min(typed, key=len):
            yield from _leaves(sub)
    else:
        yield error


def _types_of(error: ValidationError) -> list[str]:
    """The types an anyOf/oneOf would accept (for "expected integer or null")."""
    types: list[str] = []
    for sub in error.context or []:
        if sub.validator == "type" and not sub.relative_path:
            value = sub.validator_value
            for t in value if isinstance(value, list) else [value]:
                if t not in types:
                    types.append(t)
    return types


def _to_violations(error: ValidationError) -> list[Violation]:
    path = list(error.absolute_path)
    where = json_path(path)
    instance = error.instance
    actual = json_type(instance)
    rule = str(error.validator)
    value = error.validator_value
    if rule == "type":
        expected = " or ".join(value) if isinstance(value, list) else str(value)
        return [
            Violation(
                where, "type", expected, actual, f"expected {expected}, got {describe(instance)}"
            )
        ]
    if rule in ("anyOf", "oneOf"):
        types = _types_of(error)
        expected = " or ".join(types) if types else f"a value matching one of {len(value)} shapes"
        return [
            Violation(
                where, "type", expected, actual, f"expected {expected}, got {describe(instance)}"
            )
        ]
    if rule == "required" and isinstance(instance, dict):
        return [
            Violation(
                json_path([*path, name]),
                "required",
                "present",
                "missing",
                f"required field '{name}' is missing",
            )
            for name in value
            if name not in instance
        ]
    if rule == "enum":
        allowed = ", ".join(json.dumps(v) for v in value[:12]) + (
            ", ..." if len(value) > 12 else ""
        )
        return [
            Violation(
                where,
                "enum",
                f"one of [{allowed}]",
                actual,
                f"{describe(instance)} is not one of the allowed values [{allowed}]",
            )
        ]
    if rule == "additionalProperties":
        return [
            Violation(
                where,
                rule,
                "no undocumented fields",
                actual,
                f"{describe(instance)} has fields the contract does not allow",
            )
        ]
    return [
        Violation(
            where,
            rule,
            f"{rule} {value!r}",
            actual,
            f"{describe(instance)} fails '{rule}' (expected {rule} {value!r})",
        )
    ]
