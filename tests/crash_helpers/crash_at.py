"""Kill a process at one point of an OAuth token refresh, like ``kill -9``, for the crash tests.

``arm(point)`` patches the token engine of this process so that it dies with ``os._exit`` (no
``finally``, no cleanup) when a refresh reaches ``point``; the refresh runs the production code up
to that moment. ``python -m tests.crash_helpers.crash_at POINT ARGS...`` runs ``harness ARGS...``
armed (the project directory must be on ``PYTHONPATH``).
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, NoReturn

CRASH_EXIT_CODE = 86
POINTS = (
    "before_request",  # pending marker written, refresh request not yet sent
    "after_response",  # server answered (and rotated), nothing stored yet
    "store_write_partial",  # half of the new store file written to the temp file
    "during_store_write",  # temp file complete and fsynced, not yet renamed over the store
    "after_store_write",  # store replaced, token not yet handed to the caller
)


def _die(*_: object, **__: object) -> NoReturn:
    os._exit(CRASH_EXIT_CODE)


def arm(point: str) -> None:
    from harness.auth.manager import TokenManager
    from harness.auth.protocol import TokenRequest, TokenResponse
    from harness.auth.store import StoredToken, TokenStore

    if point not in POINTS:
        raise SystemExit(f"unknown crash point {point!r}; one of {', '.join(POINTS)}")
    result_pending = False  # a refresh was answered: the next store write is its result

    real_post = TokenManager._post
    real_send = TokenManager._send
    real_put = TokenStore.put

    def post(self: TokenManager, request: TokenRequest) -> Any:
        if point == "before_request" and request.grant == "refresh_token":
            _die()
        return real_post(self, request)

    def send(self: TokenManager, request: TokenRequest) -> TokenResponse:
        nonlocal result_pending
        response = real_send(self, request)
        if request.grant == "refresh_token":
            if point == "after_response":
                _die()
            result_pending = True
        return response

    def put(self: TokenStore, token: StoredToken) -> None:
        nonlocal result_pending
        if not result_pending:
            return real_put(self, token)
        result_pending = False
        with _write_dies_at(point):
            real_put(self, token)
        if point == "after_store_write":
            _die()

    TokenManager._post = post  # type: ignore[method-assign]
    TokenManager._send = send  # type: ignore[method-assign]
    TokenStore.put = put  # type: ignore[method-assign]


@contextmanager
def _write_dies_at(point: str) -> Iterator[None]:
    """While the refresh result is written: die half-way through it, or in place of the rename."""
    patches: list[tuple[Any, str, Callable[..., Any]]] = []
    if point == "store_write_partial":
        real_fdopen = os.fdopen

        def fdopen(*args: Any, **kwargs: Any) -> Any:
            return _HalfWriter(real_fdopen(*args, **kwargs))

        patches.append((os, "fdopen", fdopen))
    elif point == "during_store_write":
        patches.append((os, "replace", _die))
    saved = [(owner, name, getattr(owner, name)) for owner, name, _ in patches]
    for owner, name, replacement in patches:
        setattr(owner, name, replacement)
    try:
        yield
    finally:
        for owner, name, original in saved:
            setattr(owner, name, original)


class _HalfWriter:
    """A file whose first write puts half its data on disk (fsynced), then the process dies."""

    def __init__(self, handle: Any) -> None:
        self.handle = handle

    def write(self, data: bytes) -> int:
        self.handle.write(data[: len(data) // 2])
        self.handle.flush()
        os.fsync(self.handle.fileno())
        _die()

    def __getattr__(self, name: str) -> Any:
        return getattr(self.handle, name)

    def __enter__(self) -> _HalfWriter:
        self.handle.__enter__()
        return self

    def __exit__(self, *exc: object) -> None:
        self.handle.__exit__(*exc)


def main() -> int:
    point, *args = sys.argv[1:]
    arm(point)
    from harness.cli import main as harness

    return harness(args)


if __name__ == "__main__":
    sys.exit(main())
