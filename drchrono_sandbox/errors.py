"""The sandbox's one error type: a problem its user can fix (a bad fault flag, a state file that
cannot be read, a port in use). It is not a :class:`harness.errors.HarnessError` because the sandbox
is its own product and imports nothing from ``harness``; the harness wraps it where it starts a
sandbox (``harness/session/target.py``), and ``drchrono-sandbox`` prints it and exits 2."""

from __future__ import annotations


class SandboxError(Exception):
    """``str(err)`` is the whole message shown to the user: what is wrong and what to do."""

    exit_code = 2

    def __init__(self, message: str, *, hint: str | None = None) -> None:
        self.message = message
        self.hint = hint
        super().__init__(message if hint is None else f"{message} {hint}")


class InvalidFault(SandboxError):
    """A fault to inject is malformed (unknown kind, bad count, bad ``--fault`` flag)."""
