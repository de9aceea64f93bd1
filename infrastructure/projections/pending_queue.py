"""The pending queue: generations waiting for a worker or being worked on, in FIFO order."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from uuid import UUID

from application.queries import QueueStatus
from domain.generations import PENDING, PROCESSING, Generation
from infrastructure.projections.freshness import Freshness
from infrastructure.projections.sql import from_micros, micros
from infrastructure.projections.table_projection import Handler, TableProjection, on
from infrastructure.projections.view import ProjectionView
from infrastructure.projections.writes import Writes

TABLE = "pending_queue"


class PendingQueueProjection(TableProjection):
    name = "pending_queue"
    tables = {TABLE: ("generation_id",)}
    schema = (
        "CREATE TABLE IF NOT EXISTS {pending_queue} ("
        "generation_id TEXT PRIMARY KEY, user_id TEXT NOT NULL, seq BIGINT NOT NULL, "
        "status TEXT NOT NULL, requested_at BIGINT NOT NULL, lease_expires_at BIGINT)",
        "CREATE INDEX IF NOT EXISTS pending_queue_by_status ON {pending_queue} (status, seq)",
    )

    def event_handlers(self) -> Iterable[tuple[str, Handler]]:
        return (
            on(Generation.GenerationRequested, self._requested),
            on(Generation.GenerationStarted, self._started),
            on(Generation.LeaseExtended, self._lease_extended),
            on(Generation.GenerationRequeued, self._requeued),
            on(Generation.GenerationCompleted, self._ended),
            on(Generation.GenerationFailed, self._ended),
            on(Generation.GenerationCancelled, self._ended),
            on(Generation.ProcessingCancelled, self._ended),
            on(Generation.GenerationExpired, self._ended),
        )

    def _requested(
        self, event: Generation.GenerationRequested, position: int, writes: Writes
    ) -> None:
        row = {
            "generation_id": str(event.originator_id),
            "user_id": event.user_id,
            "seq": position,
            "status": PENDING,
            "requested_at": micros(event.requested_at),
            "lease_expires_at": None,
        }
        writes.insert(TABLE, row)

    def _started(self, event: Generation.GenerationStarted, position: int, writes: Writes) -> None:
        changes = {"status": PROCESSING, "lease_expires_at": micros(event.lease_expires_at)}
        writes.update(TABLE, (str(event.originator_id),), changes)

    def _lease_extended(
        self, event: Generation.LeaseExtended, position: int, writes: Writes
    ) -> None:
        changes = {"lease_expires_at": micros(event.lease_expires_at)}
        writes.update(TABLE, (str(event.originator_id),), changes)

    def _requeued(
        self, event: Generation.GenerationRequeued, position: int, writes: Writes
    ) -> None:
        """Pending again at its first place: `seq` stays its acceptance's."""
        changes = {"status": PENDING, "lease_expires_at": None}
        writes.update(TABLE, (str(event.originator_id),), changes)

    def _ended(self, event: Generation.Event, position: int, writes: Writes) -> None:
        writes.delete(TABLE, (str(event.originator_id),))


class PendingQueue:
    """The application's QueueView port, each answer read-your-writes."""

    def __init__(self, view: ProjectionView, freshness: Freshness, capacity: int) -> None:
        self.view = view
        self.freshness = freshness
        self.capacity = capacity

    def status(self) -> QueueStatus:
        self.freshness.wait(self.view)
        rows = self.view.fetch(
            "SELECT status, COUNT(*) AS n, MIN(requested_at) AS oldest "
            "FROM {pending_queue} GROUP BY status"
        )
        by_status = {row["status"]: row for row in rows}
        pending = by_status.get(PENDING)
        processing = by_status.get(PROCESSING)
        return QueueStatus(
            depth=pending["n"] if pending else 0,
            capacity=self.capacity,
            processing=processing["n"] if processing else 0,
            oldest_pending_at=from_micros(pending["oldest"]) if pending else None,
        )

    def position_of(self, generation_id: UUID) -> int | None:
        """1-based FIFO position among pending generations, or None if it is not pending."""
        return self.positions_of([generation_id]).get(generation_id)

    def positions_of(self, generation_ids: Iterable[UUID]) -> dict[UUID, int]:
        """The FIFO positions of those of `generation_ids` that are pending."""
        ids = [str(generation_id) for generation_id in generation_ids]
        if not ids:
            return {}
        self.freshness.wait(self.view)
        marks = ", ".join("?" * len(ids))  # placeholders only: the ids are parameters
        query = (
            "SELECT me.generation_id AS id, COUNT(*) AS n "  # noqa: S608
            "FROM {pending_queue} me JOIN {pending_queue} ahead "
            "ON ahead.status = 'pending' AND ahead.seq <= me.seq "
            f"WHERE me.status = 'pending' AND me.generation_id IN ({marks}) "
            "GROUP BY me.generation_id"
        )
        rows = self.view.fetch(query, *ids)
        return {UUID(row["id"]): row["n"] for row in rows}

    def oldest_pending(self, limit: int) -> list[UUID]:
        """Up to `limit` pending generations, oldest acceptance first."""
        self.freshness.wait(self.view)
        rows = self.view.fetch(
            "SELECT generation_id FROM {pending_queue} WHERE status = 'pending' "
            "ORDER BY seq LIMIT ?",
            limit,
        )
        return [UUID(row["generation_id"]) for row in rows]

    def expired_leases(self, now: datetime, limit: int) -> list[UUID]:
        """Processing generations whose lease ended at or before `now`, soonest ended first."""
        self.freshness.wait(self.view)
        rows = self.view.fetch(
            "SELECT generation_id FROM {pending_queue} "
            "WHERE status = 'processing' AND lease_expires_at <= ? "
            "ORDER BY lease_expires_at, seq LIMIT ?",
            micros(now),
            limit,
        )
        return [UUID(row["generation_id"]) for row in rows]

    def pending_requested_before(self, cutoff: datetime, limit: int) -> list[UUID]:
        """Pending generations requested at or before `cutoff`, oldest acceptance first."""
        self.freshness.wait(self.view)
        rows = self.view.fetch(
            "SELECT generation_id FROM {pending_queue} "
            "WHERE status = 'pending' AND requested_at <= ? ORDER BY seq LIMIT ?",
            micros(cutoff),
            limit,
        )
        return [UUID(row["generation_id"]) for row in rows]
