"""The client-side rate limiter (with a fake clock: no real sleeping)."""

from __future__ import annotations

import pytest

from harness.errors import InputError
from harness.ratelimit import ClientRateLimiter


class FakeClock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += seconds


def test_burst_window_spaces_requests() -> None:
    clock = FakeClock()
    limiter = ClientRateLimiter([(3, 1.0)], clock=clock, sleep=clock.sleep)
    waits = [limiter.acquire() for _ in range(7)]
    assert waits[:3] == [0.0, 0.0, 0.0]
    assert waits[3] == pytest.approx(1.0)
    assert clock.now == pytest.approx(2.0)  # 7 requests at 3/s take two full windows


def test_hourly_window_is_honoured_alongside_burst() -> None:
    clock = FakeClock()
    limiter = ClientRateLimiter([(10, 1.0), (12, 3600.0)], clock=clock, sleep=clock.sleep)
    for _ in range(12):
        limiter.acquire()
    assert clock.now == pytest.approx(1.0)  # the 11th and 12th waited for the burst window
    limiter.acquire()
    assert clock.now == pytest.approx(3600.0)  # the 13th waits for the first hourly slot


def test_parse() -> None:
    limiter = ClientRateLimiter.parse("9/s,500/h")
    assert limiter is not None and limiter.windows == [(9, 1.0), (500, 3600.0)]
    assert ClientRateLimiter.parse("none") is None
    with pytest.raises(InputError, match="9/s,500/h"):
        ClientRateLimiter.parse("fast")
