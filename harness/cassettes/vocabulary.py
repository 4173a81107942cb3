"""The API's own texts: the contracts' enum values, which the free-text pass never rewrites.

A cassette's enum values ("Administered during visit", "Mother") must replay exactly as
recorded, or the replayed response breaks its contract. A patient value spelled exactly as one
of them is a code from a list, not a name: it is pseudonymised in its own field only. (Field
names need no list: the free-text pass rewrites values, never keys.)
"""

from __future__ import annotations

import functools
import json
from pathlib import Path

from harness import paths


@functools.cache
def contract_enum_texts(contracts_dir: Path = paths.CONTRACTS_DIR) -> frozenset[str]:
    """Every string enum value of the contracts' schemas (empty without them)."""
    texts: set[str] = set()
    for schema in sorted((contracts_dir / "schemas").glob("*.json")):
        try:
            _collect(json.loads(schema.read_text(encoding="utf-8")), texts)
        except (OSError, ValueError):
            continue  # a broken contract is reported where contracts are checked, not here
    texts.discard("")
    return frozenset(texts)


def _collect(node: object, texts: set[str]) -> None:
    stack = [node]
    while stack:
        current = stack.pop()
        if isinstance(current, dict):
            enum = current.get("enum")
            if isinstance(enum, list):
                texts.update(v for v in enum if isinstance(v, str))
            stack.extend(current.values())
        elif isinstance(current, list):
            stack.extend(current)
