"""Deterministic crash points for the refresh protocol's durability tests.

``HARNESS_CRASH_AT=after_response`` makes the process die with ``os._exit`` (no cleanup, no
``finally``, like ``kill -9``) when it reaches that point. Unset, every call is a dictionary lookup.
"""

from __future__ import annotations

import os

CRASH_EXIT_CODE = 86
POINTS = (
    "before_request",  # pending marker written, token request not yet sent
    "after_response",  # server answered (and rotated), nothing stored yet
    "store_write_partial",  # half of the new store file written to the temp file
    "during_store_write",  # temp file complete and fsynced, not yet renamed over the store
    "after_store_write",  # store replaced, token not yet handed to the caller
)


def crash_point(name: str) -> None:
    if os.environ.get("HARNESS_CRASH_AT") == name:
        os._exit(CRASH_EXIT_CODE)


def crash_requested(name: str) -> bool:
    return os.environ.get("HARNESS_CRASH_AT") == name
