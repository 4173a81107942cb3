"""Remembering that the token endpoint is down, so a run does not ask it once per request.

Without this, every request of a run whose token endpoint is failing makes its own token call
and fails the same way: hundreds of calls to an endpoint that is already struggling. One failure
is not an outage (the next request may well get a token), but after a few in a row the last
failure is reused, without calling, for a short hold; then the endpoint is tried again.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

from harness.errors import AuthError

FAILURES_BEFORE_HOLD = 2
HOLD_S = 10.0


class EndpointOutage:
    """Consecutive "endpoint unavailable" failures (no answer, or HTTP 5xx) of one token URL."""

    def __init__(
        self,
        *,
        failures_before_hold: int = FAILURES_BEFORE_HOLD,
        hold_s: float = HOLD_S,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._threshold = failures_before_hold
        self._hold_s = hold_s
        self._clock = clock
        self._lock = threading.Lock()
        self._failures = 0
        self._last: AuthError | None = None
        self._held_until = 0.0

    def check(self) -> None:
        """Raise the remembered failure again while the endpoint is held as down."""
        with self._lock:
            last, failures, held = self._last, self._failures, self._clock() < self._held_until
        if last is not None and held:
            raise AuthError(
                f"{last.message} The token endpoint failed {failures} times in a row, so "
                f"it is not asked again for {self._hold_s:.0f} s.",
                hint=last.hint,
            )

    def failed(self, error: AuthError) -> None:
        """The endpoint gave no answer, or answered 5xx."""
        with self._lock:
            self._failures += 1
            self._last = error
            if self._failures >= self._threshold:
                self._held_until = self._clock() + self._hold_s

    def answered(self) -> None:
        """The endpoint answered (a token, or a refusal such as invalid_grant): it is up."""
        with self._lock:
            self._failures, self._last, self._held_until = 0, None, 0.0
