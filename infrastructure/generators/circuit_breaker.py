"""The plan's CircuitBreaker: after repeated failures, stop calling a failing upstream for a while.

Closed, open (refusing at once), then half-open with one trial call (docs/lifecycle.md).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Literal, TypeVar

T = TypeVar("T")
State = Literal["closed", "open", "half-open"]

FAILURE_THRESHOLD = 5
RESET_AFTER_SECONDS = 60.0


class CircuitOpen(Exception):
    """The circuit is open: the upstream failed repeatedly and is being left alone."""

    def __init__(self, retry_in_seconds: float) -> None:
        super().__init__(f"Circuit breaker is open; next trial in {retry_in_seconds:.0f}s")
        self.retry_in_seconds = retry_in_seconds


class CircuitBreaker:
    """Thread-safe; `clock` (monotonic seconds) lets tests move time instead of waiting."""

    def __init__(
        self,
        failure_threshold: int = FAILURE_THRESHOLD,
        reset_after_seconds: float = RESET_AFTER_SECONDS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.failure_threshold = failure_threshold
        self.reset_after_seconds = reset_after_seconds
        self.clock = clock
        self.failures = 0
        self._last_failure_at = 0.0
        self._opened = False
        self._trial_in_flight = False
        self._lock = threading.Lock()

    @property
    def state(self) -> State:
        with self._lock:
            return self._state()

    def _state(self) -> State:
        if not self._opened:
            return "closed"
        if self.clock() - self._last_failure_at >= self.reset_after_seconds:
            return "half-open"
        return "open"

    def is_available(self) -> bool:
        with self._lock:
            state = self._state()
            return state == "closed" or (state == "half-open" and not self._trial_in_flight)

    def before_call(self) -> None:
        """Let a call through, or CircuitOpen. In half-open, the caller becomes the one trial."""
        with self._lock:
            state = self._state()
            if state == "closed":
                return
            if state == "half-open" and not self._trial_in_flight:
                self._trial_in_flight = True
                return
            wait = self.reset_after_seconds - (self.clock() - self._last_failure_at)
            raise CircuitOpen(max(0.0, wait))

    def record_success(self) -> None:
        with self._lock:
            self.failures = 0
            self._opened = False
            self._trial_in_flight = False

    def record_failure(self) -> None:
        with self._lock:
            self.failures += 1
            self._last_failure_at = self.clock()
            self._trial_in_flight = False
            if self.failures >= self.failure_threshold:
                self._opened = True

    def call(self, operation: Callable[[], T]) -> T:
        """Run `operation` through the breaker; any exception it raises counts as a failure."""
        self.before_call()
        try:
            result = operation()
        except Exception:
            self.record_failure()
            raise
        self.record_success()
        return result
