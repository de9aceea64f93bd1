"""The pending queue: generations waiting for a worker or being worked on, in FIFO order.

Reads cost O(log n) in the number waiting: the depth and the number processing are counters in
`queue_counts`, a place is summed from the rank tree of `queue_ranks.py`, and the oldest
pending acceptance time is the first entry of an index.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any
from uuid import UUID

from application.queries import QueueStatus
from domain.generations import PENDING, PROCESSING, Generation
from infrastructure.projections.freshness import Freshness
from infrastructure.projections.queue_ranks import (
    ADD_COUNT,
    CREATE_COUNTS,
    DROP_EMPTY,
    nodes_of,
    rank_expression,
)
from infrastructure.projections.sql import from_micros, micros
from infrastructure.projections.table_projection import Handler, Lookup, TableProjection, on
from infrastructure.projections.view import ProjectionView
from infrastructure.projections.writes import Writes

TABLE = "pending_queue"
COUNTS = "pending_counts"
TOTALS = "queue_counts"
ADD_TOTAL = (
    "INSERT INTO {queue_counts} AS totals (status, n) VALUES (?, ?) "
    "ON CONFLICT (status) DO UPDATE SET n = totals.n + excluded.n"
)
DROP_EMPTY_TOTAL = "DELETE FROM {queue_counts} WHERE status = ? AND n = 0"
SEQS = "pending_queue.seqs"  # generation id -> seq, for those requested in this batch
PLACED = "pending_queue.placed"  # seq -> change in pending generations accepted at it
UNPLACED = "pending_queue.unplaced"  # generation id (seq in the table) -> change
TOTALS_CHANGED = "pending_queue.totals"  # status -> change in how many have it
LOOKUP_CHUNK = 500  # ids a statement looks up at once (well under both stores' limits)
# What each event does to the generation's status in the queue (None: not in the queue).
MOVES: dict[type[Generation.Event], tuple[str | None, str | None]] = {
    Generation.GenerationStarted: (PENDING, PROCESSING),
    Generation.GenerationRequeued: (PROCESSING, PENDING),
    Generation.GenerationCompleted: (PROCESSING, None),
    Generation.GenerationFailed: (PROCESSING, None),
    Generation.GenerationCancelled: (PENDING, None),
    Generation.ProcessingCancelled: (PROCESSING, None),
    Generation.GenerationExpired: (PENDING, None),
}


class PendingQueueProjection(TableProjection):
    name = "pending_queue"
    tables = {TABLE: ("generation_id",), COUNTS: ("level", "node"), TOTALS: ("status",)}
    schema = (
        "CREATE TABLE IF NOT EXISTS {pending_queue} ("
        "generation_id TEXT PRIMARY KEY, user_id TEXT NOT NULL, seq BIGINT NOT NULL, "
        "status TEXT NOT NULL, requested_at BIGINT NOT NULL, lease_expires_at BIGINT)",
        "CREATE INDEX IF NOT EXISTS pending_queue_by_status ON {pending_queue} (status, seq)",
        "CREATE INDEX IF NOT EXISTS pending_queue_by_status_time "
        "ON {pending_queue} (status, requested_at)",
        CREATE_COUNTS,
        "CREATE TABLE IF NOT EXISTS {queue_counts} (status TEXT PRIMARY KEY, n BIGINT NOT NULL)",
    )

    def event_handlers(self) -> Iterable[tuple[str, Handler]]:
        yield on(Generation.GenerationRequested, self._requested)
        yield on(Generation.LeaseExtended, self._lease_extended)
        for event_class, (before, after) in MOVES.items():
            yield on(event_class, self._moved(before, after))

    def _requested(
        self, event: Generation.GenerationRequested, position: int, writes: Writes
    ) -> None:
        generation_id = str(event.originator_id)
        row = {
            "generation_id": generation_id,
            "user_id": event.user_id,
            "seq": position,
            "status": PENDING,
            "requested_at": micros(event.requested_at),
            "lease_expires_at": None,
        }
        writes.insert(TABLE, row)
        writes.folding.setdefault(SEQS, {})[generation_id] = position
        self._count(writes, generation_id, PENDING, 1)

    def _lease_extended(
        self, event: Generation.LeaseExtended, position: int, writes: Writes
    ) -> None:
        changes = {"lease_expires_at": micros(event.lease_expires_at)}
        writes.update(TABLE, (str(event.originator_id),), changes)

    def _moved(self, before: str | None, after: str | None) -> Handler:
        def handle(event: Any, position: int, writes: Writes) -> None:
            generation_id = str(event.originator_id)
            if after is None:
                writes.delete(TABLE, (generation_id,))
            elif after == PROCESSING:
                changes = {"status": PROCESSING, "lease_expires_at": micros(event.lease_expires_at)}
                writes.update(TABLE, (generation_id,), changes)
            else:  # requeued: pending again at its first place, `seq` stays its acceptance's
                changes = {"status": PENDING, "lease_expires_at": None}
                writes.update(TABLE, (generation_id,), changes)
            if before is not None:
                self._count(writes, generation_id, before, -1)
            if after is not None:
                self._count(writes, generation_id, after, 1)

        return handle

    @staticmethod
    def _count(writes: Writes, generation_id: str, status: str, change: int) -> None:
        folding = writes.folding
        totals = folding.setdefault(TOTALS_CHANGED, {})
        totals[status] = totals.get(status, 0) + change
        if status != PENDING:
            return
        seq = folding.get(SEQS, {}).get(generation_id)
        if seq is None:  # accepted in an earlier batch: its seq is read in `prepare`
            unplaced = folding.setdefault(UNPLACED, {})
            unplaced[generation_id] = unplaced.get(generation_id, 0) + change
        else:
            placed = folding.setdefault(PLACED, {})
            placed[seq] = placed.get(seq, 0) + change

    def finish(self, writes: Writes) -> None:
        totals = {status: n for status, n in writes.folding.get(TOTALS_CHANGED, {}).items() if n}
        for status, change in totals.items():
            writes.add(ADD_TOTAL, status, change)
        for status, change in totals.items():
            if change < 0:  # only a fall can empty a counter
                writes.add(DROP_EMPTY_TOTAL, status)

    def prepare(self, writes: Writes, lookup: Lookup) -> None:
        """Place the earlier batches' generations by their seq, then sum into the rank tree."""
        placed: dict[int, int] = dict(writes.folding.get(PLACED, {}))
        unplaced = {i: n for i, n in writes.folding.get(UNPLACED, {}).items() if n}
        ids = list(unplaced)
        for start in range(0, len(ids), LOOKUP_CHUNK):
            chunk = ids[start : start + LOOKUP_CHUNK]
            marks = ", ".join("?" * len(chunk))  # placeholders only: the ids are parameters
            query = (
                f"SELECT generation_id, seq FROM {{pending_queue}} WHERE generation_id IN ({marks})"  # noqa: S608
            )
            for row in lookup(query, *chunk):
                seq = row["seq"]
                placed[seq] = placed.get(seq, 0) + unplaced[row["generation_id"]]
        nodes: dict[tuple[int, int], int] = {}
        for seq, change in placed.items():
            if change:
                for key in nodes_of(seq):
                    nodes[key] = nodes.get(key, 0) + change
        changed = {key: n for key, n in nodes.items() if n}
        for (level, node), n in changed.items():
            writes.add(ADD_COUNT, level, node, n)
        for (level, node), n in changed.items():
            if n < 0:  # only a fall can empty a counter
                writes.add(DROP_EMPTY, level, node)


UNCOUNTED = (
    "SELECT EXISTS (SELECT 1 FROM {pending_queue}) AS queued, "
    "EXISTS (SELECT 1 FROM {queue_counts}) AS counted"
)


def rebuild_if_uncounted(view: ProjectionView) -> bool:
    """A view built before its counters existed holds rows but no counts: forget it all, so
    its next catch-up rebuilds it from the log with them (True when it did)."""
    (row,) = view.fetch(UNCOUNTED)
    if row["queued"] and not row["counted"]:
        view.reset()
        return True
    return False


# One statement, so the three figures are of one moment on both stores.
STATUS = (
    "SELECT (SELECT n FROM {queue_counts} WHERE status = 'pending') AS pending, "
    "(SELECT n FROM {queue_counts} WHERE status = 'processing') AS processing, "
    "(SELECT MIN(requested_at) FROM {pending_queue} WHERE status = 'pending') AS oldest"
)
RANK = rank_expression("me")


class PendingQueue:
    """The application's QueueView port, each answer read-your-writes."""

    def __init__(self, view: ProjectionView, freshness: Freshness, capacity: int) -> None:
        self.view = view
        self.freshness = freshness
        self.capacity = capacity

    def status(self) -> QueueStatus:
        self.freshness.wait(self.view)
        (row,) = self.view.fetch(STATUS)
        return QueueStatus(
            depth=row["pending"] or 0,
            capacity=self.capacity,
            processing=row["processing"] or 0,
            oldest_pending_at=None if row["oldest"] is None else from_micros(row["oldest"]),
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
        # Found by their keys, the status tested after: with `status = 'pending'` in the WHERE,
        # SQLite chose the status index and walked every pending row (O(depth) again).
        query = (
            f"SELECT me.generation_id AS id, CASE WHEN me.status = 'pending' THEN {RANK} END "  # noqa: S608
            f"AS n FROM {{pending_queue}} me WHERE me.generation_id IN ({marks})"
        )
        rows = self.view.fetch(query, *ids)
        return {UUID(row["id"]): row["n"] for row in rows if row["n"] is not None}

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
