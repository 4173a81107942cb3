"""Postman pre-request and test scripts, run in an embedded JavaScript engine (see engine.py)."""

from harness.scripting.engine import ScriptRunner
from harness.scripting.model import (
    ConsoleLine,
    NextRequest,
    ScriptFailure,
    ScriptInfo,
    ScriptLimits,
    ScriptOutcome,
    ScriptRequest,
    ScriptResponse,
    ScriptSource,
    SendRequest,
    TestResult,
    VariableChange,
)

__all__ = [
    "ConsoleLine",
    "NextRequest",
    "ScriptFailure",
    "ScriptInfo",
    "ScriptLimits",
    "ScriptOutcome",
    "ScriptRequest",
    "ScriptResponse",
    "ScriptRunner",
    "ScriptSource",
    "SendRequest",
    "TestResult",
    "VariableChange",
]
