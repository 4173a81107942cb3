"""Which keys are secret and which are patient data: loaded from ``phi_fields.yaml`` (data, not code)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from harness.errors import InputError

DEFAULT_FIELDS_FILE = Path(__file__).with_name("phi_fields.yaml")

KINDS = frozenset(
    {
        "given_name",
        "family_name",
        "name",
        "date",
        "ssn",
        "phone",
        "email",
        "street",
        "city",
        "zip",
        "company",
        "identifier",
        "text",
        "url",
    }
)


@dataclass(frozen=True)
class SensitiveFields:
    """Lower-cased key names: secrets get placeholders, PHI gets pseudonyms of ``phi[key]`` kind."""

    secret_keys: frozenset[str]
    weak_secret_keys: frozenset[str]
    secret_headers: frozenset[str]
    phi: dict[str, str]
    # Keys whose values are codes from a fixed list (race, status...): never rewritten by the
    # free-text pass, which would otherwise turn "black" into a pseudonym when a name is "Black".
    coded_keys: frozenset[str] = frozenset()

    def phi_kind(self, key: str, parent: str | None = None) -> str | None:
        key = key.lower()
        if parent is not None:
            nested = self.phi.get(f"{parent.lower()}.{key}")
            if nested is not None:
                return nested
        return self.phi.get(key)

    def is_secret_key(self, key: str) -> bool:
        return key.lower() in self.secret_keys

    def is_weak_secret_key(self, key: str) -> bool:
        return key.lower() in self.weak_secret_keys

    def is_sensitive_key(self, key: str) -> bool:
        """Secret or PHI: a key whose value may never be shown or compared verbatim."""
        key = key.lower()
        return key in self.secret_keys or key in self.weak_secret_keys or key in self.phi


def load_phi_fields(path: Path | None = None) -> SensitiveFields:
    """Read the field list; a malformed file raises :class:`InputError` naming it."""
    path = path or DEFAULT_FIELDS_FILE
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as err:
        raise InputError(f"Cannot read the PHI field list {path}: {err.strerror}.") from None
    except yaml.YAMLError as err:
        raise InputError(f"The PHI field list {path} is not valid YAML: {err}.") from None
    return parse_fields(data, source=str(path))


def parse_fields(data: Any, *, source: str) -> SensitiveFields:
    if not isinstance(data, dict):
        raise InputError(f"The PHI field list {source} must be a mapping with a 'phi' section.")
    phi = data.get("phi") or {}
    if not isinstance(phi, dict):
        raise InputError(f"'phi' in {source} must map field names to pseudonym kinds.")
    for key, kind in phi.items():
        if kind not in KINDS:
            raise InputError(
                f"Field '{key}' in {source} has unknown pseudonym kind {kind!r}.",
                hint=f"Use one of: {', '.join(sorted(KINDS))}.",
            )
    return SensitiveFields(
        secret_keys=_names(data, "secret_keys", source),
        weak_secret_keys=_names(data, "weak_secret_keys", source),
        secret_headers=_names(data, "secret_headers", source),
        phi={str(k).lower(): str(v) for k, v in phi.items()},
        coded_keys=_names(data, "coded_keys", source),
    )


def _names(data: dict[str, Any], section: str, source: str) -> frozenset[str]:
    values = data.get(section) or []
    if not isinstance(values, list) or not all(isinstance(v, str) for v in values):
        raise InputError(f"'{section}' in {source} must be a list of names.")
    return frozenset(v.lower() for v in values)
