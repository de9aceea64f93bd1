"""Work a server process does besides answering requests (projection runners, sweepers)."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

logger = logging.getLogger(__name__)


class PeriodicThread:
    """Calls `tick` in a daemon thread every `interval` seconds until stopped.

    `tick` returns True when it did work, and is then called again at once, so a backlog is
    drained without waiting; an exception is logged and the loop goes on.
    """

    def __init__(self, name: str, tick: Callable[[], bool], interval: float) -> None:
        self.name = name
        self.tick = tick
        self.interval = interval
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

    def _loop(self) -> None:
        while not self._stopping.is_set():
            try:
                busy = self.tick()
            except Exception:
                logger.exception("%s failed; retrying in %.1fs", self.name, self.interval)
                busy = False
            if not busy:
                self._stopping.wait(self.interval)
