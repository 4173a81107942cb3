"""Errors raised by cassette recording and replay."""

from __future__ import annotations

from harness.errors import HarnessError


class CassetteError(HarnessError):
    """A cassette file is unreadable, malformed, or may not be written."""


class CassetteMissError(HarnessError):
    """Replay was asked for a request the cassette does not hold (and recording is not allowed)."""
