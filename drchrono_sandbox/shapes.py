"""The corrected contracts as the sandbox generates from them: what real DrChrono sends.

The published OpenAPI document is wrong in places (``patient`` foreign keys typed string, an
office's ``exam_rooms`` a string, no blank choice); ``contracts/`` holds the same schemas with the
reviewed corrections applied, as JSON Schema 2020-12. Records and generated answers are shaped
from those, so the sandbox sends what the contracts accept. Reading every schema file takes a few
milliseconds; they are read once per process.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from drchrono_sandbox.errors import SandboxError
from drchrono_sandbox.paths import default_contracts_dir

Schema = Mapping[str, Any]
# The layout `harness contracts import` writes (harness.contracts.importer), named here rather
# than imported: the contracts package pulls in the validators, which the sandbox never needs.
INDEX_FILE = "index.json"
SCHEMAS_DIR = "schemas"
MAX_REFS = 20


class ContractShapes:
    """Component and response schemas of the contract set, with ``$ref`` and ``anyOf`` followed."""

    def __init__(self, operations: Mapping[str, Any], files: Mapping[str, Schema]) -> None:
        self._operations = operations
        self._files = files
        # "schemas/Patient.json" -> "Patient": the components every "$ref" points at.
        prefix = f"{SCHEMAS_DIR}/"
        self.components: dict[str, Schema] = {
            name[len(prefix) : -len(".json")]: schema
            for name, schema in files.items()
            if name.startswith(prefix) and name.count("/") == 1
        }

    def response(self, key: str, status: int) -> Schema | None:
        """The schema of operation ``key``'s ``status`` response (None: no JSON schema)."""
        file = self.schema_file(key, status)
        return None if file is None else self._files.get(file)

    def schema_file(self, key: str, status: int) -> str | None:
        """The contract file (``schemas/lists/Patient.json``) of ``key``'s ``status`` answer."""
        response = ((self._operations.get(key) or {}).get("responses") or {}).get(str(status))
        file = (response or {}).get("schema")
        return None if file is None else str(file)

    def resolve(self, schema: Schema) -> Schema:
        """Follow a top-level ``$ref`` and take the non-null branch of ``anyOf: [X, null]``."""
        for _ in range(MAX_REFS):
            if "$ref" in schema:
                # Refs are file names relative to the referring file ("../Patient.json");
                # every one names a component.
                name = str(schema["$ref"]).rsplit("/", 1)[-1].removesuffix(".json")
                rest = {k: v for k, v in schema.items() if k != "$ref"}
                schema = {**self.components.get(name, {}), **rest}
            elif "anyOf" in schema:
                branches = [b for b in schema["anyOf"] if b != {"type": "null"}] or [{}]
                rest = {k: v for k, v in schema.items() if k != "anyOf"}
                schema = {**branches[0], **rest}
            else:
                break
        return schema


def primary_type(schema: Schema) -> str | None:
    """The JSON type a value takes when it is not null: ``["integer", "null"]`` -> integer."""
    kind = schema.get("type")
    if isinstance(kind, list):
        return next((str(k) for k in kind if k != "null"), None)
    return None if kind is None else str(kind)


def load_shapes(directory: Path | None = None) -> ContractShapes:
    # Cached by directory, so the default and the same directory named explicitly share one read.
    return _read_shapes(default_contracts_dir() if directory is None else directory)


@functools.lru_cache(maxsize=4)
def _read_shapes(directory: Path) -> ContractShapes:
    try:
        index = json.loads((directory / INDEX_FILE).read_text(encoding="utf-8"))
        files = {
            path.relative_to(directory).as_posix(): json.loads(path.read_text(encoding="utf-8"))
            for path in (directory / SCHEMAS_DIR).rglob("*.json")
        }
    except (OSError, ValueError) as exc:
        raise SandboxError(
            f"The sandbox could not read the contracts in {directory}: {exc}.",
            hint="Restore contracts/ from the repository, or regenerate it with "
            "`harness contracts import`.",
        ) from None
    operations = index.get("operations") if isinstance(index, dict) else None
    if not isinstance(operations, dict):
        raise SandboxError(
            f"{directory / INDEX_FILE} is not a contract index (no 'operations').",
            hint="Regenerate it with `harness contracts import`.",
        )
    return ContractShapes(operations, files)
