"""DrChrono's two throttles, per API application: N requests per clock hour (the count resets at
the top of the hour) and a burst limit per rolling second."""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field


@dataclass
class DrChronoThrottle:
    hourly_limit: int = 500
    burst_limit: int = 10
    clock: Callable[[], float] = time.time
    _hours: dict[str, tuple[int, int]] = field(default_factory=dict)  # client -> (hour, count)
    _recent: dict[str, deque[float]] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def allow(self, client_id: str) -> bool:
        """Record one request; False when it is over either limit (and then it is not counted)."""
        now = self.clock()
        hour = int(now // 3600)
        with self._lock:
            seen_hour, count = self._hours.get(client_id, (hour, 0))
            if seen_hour != hour:
                count = 0
            recent = self._recent.setdefault(client_id, deque())
            while recent and recent[0] <= now - 1.0:
                recent.popleft()
            if count >= self.hourly_limit or len(recent) >= self.burst_limit:
                return False
            self._hours[client_id] = (hour, count + 1)
            recent.append(now)
            return True

    def reset(self) -> None:
        with self._lock:
            self._hours.clear()
            self._recent.clear()
