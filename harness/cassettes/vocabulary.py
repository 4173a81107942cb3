"""The API's own words: texts the contracts define, which the free-text pass never rewrites.

A cassette's enum values ("Administered during visit", "Mother") and field names must replay
exactly as recorded, or the replayed response breaks its contract. A patient value that equals
one of them is a code from a list, not a name: it is pseudonymised in its own field only.
"""

from __future__ import annotations

import functools
import json
from pathlib import Path

from harness import paths


@functools.cache
def contract_texts(contracts_dir: Path = paths.CONTRACTS_DIR) -> frozenset[str]:
    """Every string enum value and property name of the contracts' schemas (empty without them)."""
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
            properties = current.get("properties")
            if isinstance(properties, dict):
                texts.update(str(k) for k in properties)
            stack.extend(current.values())
        elif isinstance(current, list):
            stack.extend(current)
