"""What changed between two contract sets, sorted into breaking and additive changes.

Breaking for a client: an operation or status removed, a field removed, a field newly required,
a type narrowed, an enum value removed. Additive: the reverse of each.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from harness.contracts.contract_set import ContractSet


@dataclass
class ContractDiff:
    breaking: list[str] = field(default_factory=list)
    additive: list[str] = field(default_factory=list)

    @property
    def is_breaking(self) -> bool:
        return bool(self.breaking)

    def to_text(self) -> str:
        lines = [f"BREAKING  {c}" for c in self.breaking] + [
            f"additive  {c}" for c in self.additive
        ]
        lines.append(f"{len(self.breaking)} breaking, {len(self.additive)} additive change(s).")
        return "\n".join(lines)


def diff_contracts(old_dir: Path, new_dir: Path) -> ContractDiff:
    return diff_sets(ContractSet.load(old_dir), ContractSet.load(new_dir))


def diff_sets(old: ContractSet, new: ContractSet) -> ContractDiff:
    result = ContractDiff()
    old_ops = {f"{m} {p}": s for m, p, s in old.operations()}
    new_ops = {f"{m} {p}": s for m, p, s in new.operations()}
    for key in sorted(old_ops.keys() - new_ops.keys()):
        result.breaking.append(f"{key}: operation removed")
    for key in sorted(new_ops.keys() - old_ops.keys()):
        result.additive.append(f"{key}: operation added")
    compared: set[tuple[str, str]] = set()
    for key in sorted(old_ops.keys() & new_ops.keys()):
        for status in sorted(set(old_ops[key]) - set(new_ops[key])):
            result.breaking.append(f"{key} {status}: status removed")
        for status in sorted(set(new_ops[key]) - set(old_ops[key])):
            result.additive.append(f"{key} {status}: status added")
        old_op, new_op = old.operation(key), new.operation(key)
        assert old_op is not None and new_op is not None
        for status in sorted(set(old_ops[key]) & set(new_ops[key])):
            before = old_op["responses"][str(status)]
            after = new_op["responses"][str(status)]
            where = f"{key} {status}"
            if before["body"] != after["body"] or before.get("content_type") != after.get(
                "content_type"
            ):
                result.breaking.append(
                    f"{where}: body changed from {before['body']} {before.get('content_type')} "
                    f"to {after['body']} {after.get('content_type')}"
                )
                continue
            if before.get("schema") and after.get("schema"):
                pair = (before["schema"], after["schema"])
                if pair in compared:
                    continue  # the same schema pair is reported once, under its first operation
                compared.add(pair)
                _diff_schema(
                    old.compiled(pair[0]).schema,
                    new.compiled(pair[1]).schema,
                    f"{pair[1]}: $",
                    old.compiled(pair[0]),
                    new.compiled(pair[1]),
                    result,
                    set(),
                )
    return result


def _diff_schema(
    old: Any,
    new: Any,
    where: str,
    old_ctx: Any,
    new_ctx: Any,
    out: ContractDiff,
    visiting: set[tuple[int, int]],
) -> None:
    old, new = old_ctx._resolve(old), new_ctx._resolve(new)
    if not isinstance(old, dict) or not isinstance(new, dict):
        return
    marker = (id(old), id(new))
    if marker in visiting:  # recursive schemas
        return
    visiting = visiting | {marker}
    old_types, new_types = _types(old, old_ctx), _types(new, new_ctx)
    if old_types is not None and new_types is not None and old_types != new_types:
        removed, added = old_types - new_types, new_types - old_types
        if removed:
            out.breaking.append(f"{where}: type {_fmt(old_types)} -> {_fmt(new_types)}")
        elif added:
            out.additive.append(f"{where}: type {_fmt(old_types)} -> {_fmt(new_types)}")
    if "enum" in old and "enum" in new:
        for value in [v for v in old["enum"] if v not in new["enum"]]:
            out.breaking.append(f"{where}: enum value {value!r} removed")
        for value in [v for v in new["enum"] if v not in old["enum"]]:
            out.additive.append(f"{where}: enum value {value!r} added")
    elif "enum" in new and "enum" not in old:
        out.breaking.append(f"{where}: now restricted to an enum")
    elif "enum" in old:
        out.additive.append(f"{where}: enum restriction removed")
    old_props, new_props = _props(old, old_ctx), _props(new, new_ctx)
    for name in sorted(old_props.keys() - new_props.keys()):
        out.breaking.append(f"{where}.{name}: field removed")
    for name in sorted(new_props.keys() - old_props.keys()):
        out.additive.append(f"{where}.{name}: field added")
    old_req, new_req = _required(old, old_ctx), _required(new, new_ctx)
    for name in sorted(new_req - old_req):
        out.breaking.append(f"{where}.{name}: now required")
    for name in sorted(old_req - new_req):
        out.additive.append(f"{where}.{name}: no longer required")
    for name in sorted(old_props.keys() & new_props.keys()):
        _diff_schema(
            old_props[name], new_props[name], f"{where}.{name}", old_ctx, new_ctx, out, visiting
        )
    old_items, new_items = _items(old, old_ctx), _items(new, new_ctx)
    if old_items is not None and new_items is not None:
        _diff_schema(old_items, new_items, f"{where}[*]", old_ctx, new_ctx, out, visiting)


def _branches(schema: dict[str, Any], ctx: Any) -> list[dict[str, Any]]:
    """The schema itself, or its non-null anyOf branches (nullable references)."""
    if "anyOf" in schema:
        found = [ctx._resolve(b) for b in schema["anyOf"]]
        return [b for b in found if isinstance(b, dict) and b.get("type") != "null"]
    return [schema]


def _types(schema: dict[str, Any], ctx: Any) -> set[str] | None:
    if "type" in schema:
        t = schema["type"]
        return set(t) if isinstance(t, list) else {t}
    if "anyOf" in schema:
        types: set[str] = set()
        for branch in (ctx._resolve(b) for b in schema["anyOf"]):
            if not isinstance(branch, dict) or "type" not in branch:
                return None
            t = branch["type"]
            types |= set(t) if isinstance(t, list) else {t}
        return types
    return None


def _props(schema: dict[str, Any], ctx: Any) -> dict[str, Any]:
    props: dict[str, Any] = {}
    for branch in _branches(schema, ctx):
        props.update(branch.get("properties") or {})
    return props


def _required(schema: dict[str, Any], ctx: Any) -> set[str]:
    required: set[str] = set()
    for branch in _branches(schema, ctx):
        required |= set(branch.get("required") or [])
    return required


def _items(schema: dict[str, Any], ctx: Any) -> Any:
    for branch in _branches(schema, ctx):
        if "items" in branch:
            return branch["items"]
    return None


def _fmt(types: set[str]) -> str:
    return "|".join(sorted(types))
