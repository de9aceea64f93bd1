"""GenerationQueue: the one aggregate that holds "at most QUEUE_MAX_SIZE pending" for every user.

It counts pending generations rather than listing them (docs/architecture.md says why).
"""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

from eventsourcing.domain import Aggregate, event

from domain.errors import InvalidTransition, QueueFull
from domain.identifiers import queue_id

DEFAULT_CAPACITY = 50


class GenerationQueue(Aggregate):
    """How many generations wait for a worker, across every user."""

    requeues = 0  # what a snapshot taken before requeues existed restores (docs/events.md)

    @staticmethod
    def create_id() -> UUID:
        return queue_id()

    class QueueOpened(Aggregate.Created):
        pass

    class GenerationQueued(Aggregate.Event):
        generation_id: str
        at: datetime

    class GenerationLeftQueue(Aggregate.Event):
        generation_id: str
        reason: str  # "claimed", "cancelled" or "expired"
        at: datetime

    class GenerationRequeued(Aggregate.Event):
        generation_id: str
        at: datetime

    @event(QueueOpened)
    def __init__(self) -> None:
        self.pending = 0
        self.requeues = 0  # how many came back: a claim's batch of oldest ids is then stale

    def check_room(self, capacity: int) -> None:
        """QueueFull unless one more generation fits."""
        if self.pending >= capacity:
            raise QueueFull(capacity)

    def admit(self, generation_id: UUID, capacity: int, at: datetime) -> int:
        """Take a generation in, or QueueFull; returns its 1-based FIFO position."""
        self.check_room(capacity)
        self._queued(generation_id=str(generation_id), at=at)
        return self.pending

    @event(GenerationQueued)
    def _queued(self, generation_id: str, at: datetime) -> None:
        self.pending += 1

    def leave(self, generation_id: UUID, reason: str, at: datetime) -> None:
        """A pending generation was claimed, cancelled or expired."""
        if self.pending < 1:
            raise InvalidTransition("The queue has no pending generation to remove.")
        self._left(generation_id=str(generation_id), reason=reason, at=at)

    @event(GenerationLeftQueue)
    def _left(self, generation_id: str, reason: str, at: datetime) -> None:
        self.pending -= 1

    def requeue(self, generation_id: UUID, at: datetime) -> None:
        """A claimed generation whose lease ran out waits again, at its first place; it was
        accepted already, so capacity does not apply (docs/lifecycle.md)."""
        self._requeued(generation_id=str(generation_id), at=at)

    @event(GenerationRequeued)
    def _requeued(self, generation_id: str, at: datetime) -> None:
        self.pending += 1
        self.requeues += 1
