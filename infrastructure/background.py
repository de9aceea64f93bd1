"""Work a server process does besides answering requests (projection runners, sweepers)."""

from __future__ import annotations

import logging
import random
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

logger = logging.getLogger(__name__)

MAX_BACKOFF_SECONDS = 5.0  # so a loop finds its store again within seconds of its return


def backoff_seconds(
    failures: int, interval: float, cap: float = MAX_BACKOFF_SECONDS, draw: float | None = None
) -> float:
    """Doubling from `interval` per failure, capped, jittered over its upper half by `draw`."""
    ceiling = min(cap, interval * 2.0 ** min(failures, 32))
    return ceiling * (0.5 + 0.5 * (random.random() if draw is None else draw))  # noqa: S311


@dataclass(frozen=True)
class LoopHealth:
    """Failures in a row, the last error (None: healthy), and where a failing follower stands."""

    failures: int = 0
    error: str | None = None
    position: int | None = None


class Backoff:
    """One loop's or follower's failures in a row; logged when they start and when they end."""

    def __init__(self, name: str, interval: float) -> None:
        self.name = name
        self.interval = interval
        self.health = LoopHealth()
        self.retry_at = 0.0  # time.monotonic() before which a failing follower is left alone

    def failed(self, error: Exception, position: int | None = None) -> float:
        """Record `error`; the seconds to wait before trying again."""
        failures = self.health.failures + 1
        if failures == 1:
            logger.warning("%s failing, backing off: %r", self.name, error, exc_info=error)
        self.health = LoopHealth(failures, f"{type(error).__name__}: {error}", position)
        delay = backoff_seconds(failures, self.interval)
        self.retry_at = time.monotonic() + delay
        return delay

    def succeeded(self) -> None:
        if self.health.failures:
            logger.warning("%s recovered after %d failures", self.name, self.health.failures)
            self.health = LoopHealth()


class PeriodicThread:
    """Calls `tick` in a daemon thread every `interval` seconds, at once again if it did work."""

    def __init__(self, name: str, tick: Callable[[], bool], interval: float) -> None:
        self.name = name
        self.tick = tick
        self.interval = interval
        self.backoff = Backoff(name, interval)
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        self._stopping.clear()
        self._thread = threading.Thread(target=self._loop, name=self.name, daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stopping.set()
        if self._thread is not None:
            self._thread.join(timeout=10)

    @property
    def health(self) -> LoopHealth:
        return self.backoff.health

    def run_tick(self) -> float:
        """Run `tick` once and record how it went; the seconds to wait before the next one."""
        try:
            busy = self.tick()
        except Exception as error:
            return self.backoff.failed(error)
        self.backoff.succeeded()
        return 0.0 if busy else self.interval

    def _loop(self) -> None:
        while not self._stopping.is_set():
            delay = self.run_tick()
            if delay:
                self._stopping.wait(delay)
