"""Newman's ``--export-environment``, ``--export-globals`` and ``--export-collection``: the run's
variables as they stand at its end (with the values scripts set), in Postman's file shapes.

Secrets rule: a value the harness knows to be a credential is never written. A variable is
exported as an empty ``"type": "secret"`` entry when Postman marks it secret, its name says secret
(``client_secret``, ``access_token``...), an auth block of the collection uses it, or its value
holds a secret the run registered (tokens it fetched, ``DRCHRONO_*`` credentials, the values auth
blocks put on the wire). Patient data is not pseudonymised: the file is the user's own
environment, written where they asked.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from harness import __version__
from harness.atomicfile import atomic_write_text
from harness.errors import InputError
from harness.json_input import parse_json, read_input_text
from harness.redaction import SecretRegistry
from harness.variables import is_secret_name


@dataclass(frozen=True)
class ExportPaths:
    environment: Path | None = None
    globals: Path | None = None
    collection: Path | None = None


@dataclass
class Exported:
    """What one export wrote, for the console line."""

    what: str
    path: Path
    count: int
    withheld: list[str] = field(default_factory=list)

    def __str__(self) -> str:
        line = f"exported {self.what} to {self.path} ({self.count} variables)"
        if self.withheld:
            line += (
                f"; {len(self.withheld)} secret value(s) written empty as type secret: "
                + ", ".join(self.withheld)
            )
        return line


class SecretRule:
    """Which variables are written empty (see the module's docstring)."""

    def __init__(self, secrets: SecretRegistry, secret_names: set[str]) -> None:
        self.secrets = secrets
        self.secret_names = secret_names

    def withholds(self, name: str, value: str) -> bool:
        return (
            name in self.secret_names
            or is_secret_name(name)
            or value in self.secrets
            or bool(value and self.secrets.find_in(value))
        )


def export_variables(
    path: Path,
    values: Mapping[str, str],
    *,
    scope: str,
    name: str,
    rule: SecretRule,
    source_id: str | None = None,
) -> Exported:
    """Write a Postman environment (``scope="environment"``) or globals file."""
    entries: list[dict[str, Any]] = []
    withheld: list[str] = []
    for key, value in values.items():
        if rule.withholds(key, value):
            withheld.append(key)
            entries.append({"key": key, "value": "", "type": "secret", "enabled": True})
        else:
            entries.append({"key": key, "value": value, "type": "default", "enabled": True})
    document = {
        "id": source_id or str(uuid.uuid4()),
        "name": name,
        "values": entries,
        "_postman_variable_scope": scope,
        "_postman_exported_at": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.000Z"),
        "_postman_exported_using": f"drchrono-harness/{__version__}",
    }
    _write(path, document, f"--export-{scope}")
    return Exported(scope, path, len(entries), withheld)


def export_collection(
    path: Path, source: Path, variables: Mapping[str, str], *, rule: SecretRule
) -> Exported:
    """The collection file as given, its ``variable`` list replaced by the run's collection
    variables (Newman exports the collection with the values scripts set)."""
    document = parse_json(
        read_input_text(source, what="collection", hint="Check the collection's path."),
        source,
        what="Postman collection",
    )
    if not isinstance(document, dict):  # the loader has accepted it already: cannot happen
        raise InputError(f"{source} is not a Postman collection.", hint="Check the file.")
    old_types = {
        str(entry.get("key")): entry.get("type")
        for entry in document.get("variable") or []
        if isinstance(entry, dict)
    }
    entries: list[dict[str, Any]] = []
    withheld: list[str] = []
    for key, value in variables.items():
        if rule.withholds(key, value):
            withheld.append(key)
            entries.append({"key": key, "value": "", "type": "secret"})
        else:
            entries.append({"key": key, "value": value, "type": old_types.get(key) or "string"})
    document["variable"] = entries
    _write(path, document, "--export-collection")
    return Exported("collection", path, len(entries), withheld)


def environment_name(path: Path | None) -> tuple[str, str | None]:
    """The name and id of the environment file the run read (for the export's header)."""
    if path is None:
        return "environment", None
    try:
        document = json.loads(path.read_text(encoding="utf-8-sig"))
    except (OSError, ValueError):
        return path.stem, None
    if not isinstance(document, dict):
        return path.stem, None
    name = document.get("name")
    ident = document.get("id")
    return (
        name if isinstance(name, str) and name else path.stem,
        ident if isinstance(ident, str) else None,
    )


def check_export_path(path: Path, option: str) -> None:
    """Refuse an export path that cannot be written, before the run rather than after it."""
    if path.is_dir():
        raise InputError(
            f"{option} {path} is a directory.", hint="Give the path of the file to write."
        )
    if not path.parent.is_dir():
        raise InputError(
            f"{option} {path}: the directory {path.parent} does not exist.",
            hint="Create it first, or export to an existing directory.",
        )


def _write(path: Path, document: dict[str, Any], option: str) -> None:
    check_export_path(path, option)  # again: the directory may have gone during the run
    atomic_write_text(path, json.dumps(document, indent=2, ensure_ascii=False) + "\n")
