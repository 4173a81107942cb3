"""DrChrono contract-test harness driven by Postman collections.

The public API: the names in ``__all__`` below, and those of ``harness.reporters``,
``harness.contracts``, ``harness.auth``, ``harness.cassettes`` and ``harness.scenarios`` (see
docs/ARCHITECTURE.md, "Public API"). Every other module is internal. The names load on first use
(PEP 562), so ``harness --version`` imports none of them.

    from harness import RunOptions, open_session
    with open_session(RunOptions()) as session:
        summary = session.run(session.plan(), [])
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

__version__ = "0.1.0"

_EXPORTS = {
    "RunOptions": "harness.session.options",
    "open_session": "harness.session",
    "RunContext": "harness.run_context",
    "RunInfo": "harness.results",
    "Reporter": "harness.results",
    "RequestResult": "harness.results",
    "RunSummary": "harness.results",
    "Verdict": "harness.results",
    "Cause": "harness.results",
    "Check": "harness.results",
    "HarnessError": "harness.errors",
    "InputError": "harness.errors",
    "AuthError": "harness.errors",
    "CassetteError": "harness.errors",
}

__all__ = [
    "AuthError",
    "CassetteError",
    "Cause",
    "Check",
    "HarnessError",
    "InputError",
    "Reporter",
    "RequestResult",
    "RunContext",
    "RunInfo",
    "RunOptions",
    "RunSummary",
    "Verdict",
    "__version__",
    "open_session",
]

if TYPE_CHECKING:
    from harness.errors import AuthError, CassetteError, HarnessError, InputError
    from harness.results import Cause, Check, Reporter, RequestResult, RunInfo, RunSummary, Verdict
    from harness.run_context import RunContext
    from harness.session import open_session
    from harness.session.options import RunOptions


def __getattr__(name: str) -> object:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'harness' has no attribute {name!r}")
    return getattr(importlib.import_module(module), name)
