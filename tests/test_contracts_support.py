"""Shared helpers for the contract tests: the real document, parsed and built once per session."""

from __future__ import annotations

import functools
import json
from typing import Any

from harness.contracts import ContractSet, build_contracts
from harness.contracts.corrections import Correction, load_corrections
from harness.contracts.importer import load_openapi
from harness.paths import CONTRACTS_DIR, OPENAPI_DOCUMENT

CORRECTIONS_FILE = CONTRACTS_DIR / "corrections.yaml"


@functools.cache
def document() -> dict[str, Any]:
    return load_openapi(OPENAPI_DOCUMENT)


@functools.cache
def corrections() -> tuple[Correction, ...]:
    return tuple(load_corrections(CORRECTIONS_FILE))


@functools.cache
def built_files(disabled: frozenset[str] = frozenset()) -> dict[str, str]:
    return build_contracts(
        document(), list(corrections()), source=OPENAPI_DOCUMENT.name, disabled=disabled
    )


@functools.cache
def contracts(disabled: frozenset[str] = frozenset()) -> ContractSet:
    return ContractSet.from_files(built_files(disabled))


def check(
    cs: ContractSet,
    method: str,
    url: str,
    status: int,
    body: Any = None,
    *,
    content_type: str | None = "application/json",
    strict: bool = False,
) -> Any:
    raw = body if isinstance(body, (bytes, str)) or body is None else json.dumps(body)
    return cs.check(
        method=method, url=url, status=status, content_type=content_type, body=raw, strict=strict
    )
