"""Work a server process does besides answering requests (projection runners, sweepers)."""

from __future__ import annotations

import logging
import random
import threading
from collections.abc import Callable
from dataclasses import dataclass

logger = logging.getLogger(__name__)

MAX_BACKOFF_SECONDS = 30.0


def backoff_seconds(
    failures: int, interval: float, cap: float = MAX_BACKOFF_SECONDS, draw: float | None = None
) -> float:
    """The wait after `failures` failures in a row: doubling from `interval`, capped, jittered.

    Full jitter over the upper half (`draw` in [0, 1), random when None), so loops that failed
    together do not retry together.
    """
    ceiling = min(cap, interval * 2.0 ** min(failures, 32))
    return ceiling * (0.5 + 0.5 * (random.random() if draw is None else draw))  # noqa: S311


@dataclass(frozen=True)
class LoopHealth:
    """How a background loop is doing: failures in a row and the last error (None: healthy)."""

    failures: int = 0
    error: str | None = None


class PeriodicThread:
    """Calls `tick` in a daemon thread every `interval` seconds until stopped.

    `tick` returns True when it did work, and is then called again at once. A failing tick is
    retried with capped, jittered backoff; the loop logs once when it starts failing and once
    when it recovers, not at every attempt.
    """

    def __init__(self, name: str, tick: Callable[[], bool], interval: float) -> None:
        self.name = name
        self.tick = tick
        self.interval = interval
        self.health = LoopHealth()
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

    def run_tick(self) -> float:
        """Run `tick` once and record how it went; the seconds to wait before the next one."""
        try:
            busy = self.tick()
        except Exception as error:
            failures = self.health.failures + 1
            if failures == 1:
                logger.warning("%s failing, backing off: %r", self.name, error, exc_info=True)
            self.health = LoopHealth(failures, f"{type(error).__name__}: {error}")
            return backoff_seconds(failures, self.interval)
        if self.health.failures:
            logger.warning("%s recovered after %d failures", self.name, self.health.failures)
            self.health = LoopHealth()
        return 0.0 if busy else self.interval

    def _loop(self) -> None:
        while not self._stopping.is_set():
            delay = self.run_tick()
            if delay:
                self._stopping.wait(delay)
