"""The tests' one clock: time that moves only when a test says so."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

T0 = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)


class Clock:
    """The application's clock (a datetime), and the same time as monotonic seconds since T0
    for what measures intervals (`clock.monotonic`, the circuit breaker's)."""

    def __init__(self, now: datetime = T0) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def monotonic(self) -> float:
        return (self.now - T0).total_seconds()

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)
