"""Self-contained schemas: one schema file plus every file it references, under ``$defs``.

Bundling once at compile time means no engine needs a reference registry, so the same bundle
feeds python-jsonschema, jsonschema-rs and fastjsonschema (the benchmark compares them).
"""

from __future__ import annotations

import copy
import posixpath
from typing import Any

from harness.contracts import pointer


def def_key(relative_file: str) -> str:
    """ "schemas/lists/Patient.json" -> "lists/Patient"."""
    return relative_file.removeprefix("schemas/").removesuffix(".json")


def def_ref(relative_file: str, fragment: str = "") -> str:
    return "#/$defs/" + pointer.escape(def_key(relative_file)) + fragment


def bundle(root_file: str, files: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """``root_file`` (relative to the contracts dir) with its references inlined under $defs."""
    defs: dict[str, Any] = {}
    pending = [root_file]
    while pending:
        current = pending.pop()
        if def_key(current) in defs:
            continue
        if current not in files:
            raise KeyError(current)
        rewritten = _rewrite(copy.deepcopy(files[current]), current, pending)
        rewritten.pop("$schema", None)
        defs[def_key(current)] = rewritten
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$defs": defs,
        "$ref": def_ref(root_file),
    }


def _rewrite(node: Any, current: str, pending: list[str]) -> Any:
    if isinstance(node, dict):
        ref = node.get("$ref")
        if isinstance(ref, str):
            target, _, fragment = ref.partition("#")
            if target:
                resolved = posixpath.normpath(posixpath.join(posixpath.dirname(current), target))
                pending.append(resolved)
                node["$ref"] = def_ref(resolved, fragment)
            else:
                node["$ref"] = def_ref(current, fragment)
        for key, value in node.items():
            if key not in ("$ref", "enum", "const", "default", "examples"):
                node[key] = _rewrite(value, current, pending)
    elif isinstance(node, list):
        return [_rewrite(item, current, pending) for item in node]
    return node
