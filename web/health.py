"""The health check's probe: at most one store ping in flight, answered within a deadline.

A ping that hangs (a store that accepts connections and never answers) keeps its own thread,
outside the request thread pool, and every health request meanwhile shares its outcome, so the
check answers within HEALTH_DEADLINE_SECONDS whatever the store does and never piles up threads.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Protocol

logger = logging.getLogger("atelier.health")

HEALTH_DEADLINE_SECONDS = 1.5  # API.md: the health check answers within 2 s


class Pingable(Protocol):
    def ping(self) -> object: ...


class HealthProbe:
    """Pings the store; logs each change between healthy and unhealthy once."""

    def __init__(self, store: Pingable) -> None:
        self.store = store
        self._flight: asyncio.Future[object] | None = None
        self.healthy = True

    async def problem(self) -> str | None:
        """None when the store answered within the deadline, else what went wrong."""
        if self._flight is None or self._flight.done():
            self._flight = asyncio.ensure_future(asyncio.to_thread(self.store.ping))
            self._flight.add_done_callback(_retrieved)
        try:
            await asyncio.wait_for(asyncio.shield(self._flight), HEALTH_DEADLINE_SECONDS)
        except TimeoutError:
            return self._note("the event store did not answer in time")
        except Exception as error:
            return self._note(f"{type(error).__name__}: {error}")
        if not self.healthy:
            logger.warning("health check: the event store answers again")
            self.healthy = True
        return None

    def _note(self, problem: str) -> str:
        if self.healthy:
            logger.warning("health check: unhealthy (%s)", problem)
            self.healthy = False
        return problem


def _retrieved(flight: asyncio.Future[object]) -> None:
    """Marks a failure as seen even when every waiter gave up on it (no asyncio warning)."""
    if not flight.cancelled():
        flight.exception()
