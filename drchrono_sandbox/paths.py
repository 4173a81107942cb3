"""Where the sandbox finds the DrChrono data it serves: the OpenAPI document and the contracts.

The data ships once, in the ``harness`` package of the same distribution (``harness/data``; see
docs/ARCHITECTURE.md). The sandbox imports no ``harness`` code, so it locates that directory with
:func:`importlib.util.find_spec`, which finds a top-level package without running it. Callers
with their own copy pass ``SandboxConfig(openapi_document=..., contracts_dir=...)`` instead.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path


def shipped_data_dir() -> Path:
    spec = importlib.util.find_spec("harness")
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError("the drchrono-harness distribution's data directory is missing")
    return Path(next(iter(spec.submodule_search_locations))) / "data"


def default_contracts_dir() -> Path:
    return shipped_data_dir() / "contracts"


def default_openapi_document() -> Path:
    return default_contracts_dir() / "drchrono-openapi.yml"
