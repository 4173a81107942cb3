"""Errors raised by cassette recording and replay (defined in :mod:`harness.errors`, so that the
runner can tell them apart without importing VCR.py)."""

from harness.errors import CassetteError, CassetteMissError

__all__ = ["CassetteError", "CassetteMissError"]
