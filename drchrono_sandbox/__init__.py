"""A local DrChrono: OAuth 2.0 as django-oauth-toolkit does it, the REST API with DrChrono's
conventions, seeded synthetic patients, rate limits and fault injection.

    from drchrono_sandbox import Sandbox, SandboxConfig, FaultKind
    with Sandbox(SandboxConfig(seed=0)) as sb:
        sb.base_url, sb.client_id, sb.client_secret, sb.refresh_token

A product of its own (console script ``drchrono-sandbox``): it imports nothing from ``harness``.
The names below load on first use, so importing ``drchrono_sandbox.errors`` does not start the
server stack (Starlette, uvicorn, Faker).
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

__version__ = "0.1.0"

_EXPORTS = {
    "Fault": "drchrono_sandbox.faults",
    "FaultKind": "drchrono_sandbox.faults",
    "Sandbox": "drchrono_sandbox.server",
    "SandboxConfig": "drchrono_sandbox.config",
    "SandboxError": "drchrono_sandbox.errors",
    "InvalidFault": "drchrono_sandbox.errors",
}

__all__ = [
    "Fault",
    "FaultKind",
    "InvalidFault",
    "Sandbox",
    "SandboxConfig",
    "SandboxError",
    "__version__",
]

if TYPE_CHECKING:
    from drchrono_sandbox.config import SandboxConfig
    from drchrono_sandbox.errors import InvalidFault, SandboxError
    from drchrono_sandbox.faults import Fault, FaultKind
    from drchrono_sandbox.server import Sandbox


def __getattr__(name: str) -> object:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'drchrono_sandbox' has no attribute {name!r}")
    return getattr(importlib.import_module(module), name)
