"""Client-side rate limiting, so that a run never trips DrChrono's throttle by itself.

DrChrono allows a burst of 10 requests per second and 500 per hour per application. A limiter is a
set of sliding windows ("9/s,500/h"); :meth:`ClientRateLimiter.acquire` blocks until every window has room.
"""

from __future__ import annotations

import re
import threading
import time
from collections import deque
from collections.abc import Callable

from harness.errors import InputError

# One under DrChrono's burst limit: clocks differ and the server counts on arrival.
DRCHRONO_LIMITS = "9/s,500/h"
_UNITS = {"s": 1.0, "m": 60.0, "h": 3600.0}
_SPEC = re.compile(r"^\s*(\d+)\s*/\s*(\d*)\s*([smh])\s*$")


class ClientRateLimiter:
    def __init__(
        self,
        windows: list[tuple[int, float]],
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.windows = windows
        self._stamps: list[deque[float]] = [deque() for _ in windows]
        self._lock = threading.Lock()
        self._clock = clock
        self._sleep = sleep

    @classmethod
    def parse(cls, spec: str) -> ClientRateLimiter | None:
        """``"9/s,500/h"`` -> limiter; ``"none"`` or ``""`` -> None."""
        if spec.strip().lower() in ("", "none", "off"):
            return None
        windows = []
        for part in spec.split(","):
            match = _SPEC.match(part)
            if not match or int(match.group(1)) < 1:
                raise InputError(
                    f"--rate-limit {spec!r} is not understood.",
                    hint="Write limits like '9/s,500/h' (count/period, periods s, m, h), or 'none'.",
                )
            count, multiple, unit = match.groups()
            windows.append((int(count), float(multiple or 1) * _UNITS[unit]))
        return cls(windows)

    def acquire(self) -> float:
        """Wait until a request may be sent; returns the seconds waited."""
        waited = 0.0
        while True:
            with self._lock:
                now = self._clock()
                delay = 0.0
                for (limit, period), stamps in zip(self.windows, self._stamps, strict=True):
                    while stamps and stamps[0] <= now - period:
                        stamps.popleft()
                    if len(stamps) >= limit:
                        delay = max(delay, stamps[0] + period - now)
                if delay <= 0:
                    for stamps in self._stamps:
                        stamps.append(now)
                    return waited
            self._sleep(delay)
            waited += delay
