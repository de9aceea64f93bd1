"""Sweeps: the time limits act on what nobody did (leases that ran out, pending that waited)."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from uuid import UUID

from application.endings import EndingUseCases
from application.errors import Contention, GenerationNotFound
from application.retries import retry_on_conflict

logger = logging.getLogger(__name__)

SWEEP_BATCH = 100
REQUEUED, TIMED_OUT, EXPIRED = "requeued", "timed out", "expired"
Outcome = str | None  # what a sweep did to one generation; None: nothing was due


@dataclass(frozen=True)
class SweepReport:
    """`busy` when a full batch was handled and more may be due."""

    requeued: list[UUID] = field(default_factory=list)
    timed_out: list[UUID] = field(default_factory=list)
    expired: list[UUID] = field(default_factory=list)
    busy: bool = False


class SweepUseCases(EndingUseCases):
    def sweep(self, now: datetime | None = None, limit: int = SWEEP_BATCH) -> SweepReport:
        """Requeue or time out ran-out leases, expire stale pending ones (docs/lifecycle.md)."""
        view = self.queue_view
        if view is None:
            return SweepReport()
        now = now or self.clock()
        lease_candidates = view.expired_leases(now, limit)
        outcomes = {g: self._sweep_one(self._time_out_if_due, g, now) for g in lease_candidates}
        requeued = [g for g, outcome in outcomes.items() if outcome == REQUEUED]
        timed_out = [g for g, outcome in outcomes.items() if outcome == TIMED_OUT]
        cutoff = now - self.policy.pending_ttl
        pending_candidates = view.pending_requested_before(cutoff, limit)
        expired = [
            g for g in pending_candidates if self._sweep_one(self._expire_if_due, g, now) == EXPIRED
        ]
        swept = len(requeued) + len(timed_out)
        busy = (bool(swept) and len(lease_candidates) >= limit) or (
            bool(expired) and len(pending_candidates) >= limit
        )
        if swept or expired:
            logger.info(
                "sweep: %d requeued, %d timed out, %d expired",
                len(requeued),
                len(timed_out),
                len(expired),
            )
        return SweepReport(requeued=requeued, timed_out=timed_out, expired=expired, busy=busy)

    def _sweep_one(
        self, decide: Callable[[UUID, datetime], Outcome], generation_id: UUID, now: datetime
    ) -> Outcome:
        try:
            return retry_on_conflict(lambda: decide(generation_id, now))
        except GenerationNotFound:
            return None
        except Contention:
            logger.warning("sweep: generation %s stayed contended; next sweep", generation_id)
            return None

    def _time_out_if_due(self, generation_id: UUID, now: datetime) -> Outcome:
        with self.queue_lock:
            queue = self.load_queue()  # before the generation (docs/lifecycle.md)
            generation, account = self.load_generation_and_account(generation_id)
            if not generation.lease_ran_out(now):
                return None
            return REQUEUED if self._time_out(generation, account, queue, now) else TIMED_OUT

    def _expire_if_due(self, generation_id: UUID, now: datetime) -> Outcome:
        with self.queue_lock:
            queue = self.load_queue()  # before the generation (docs/lifecycle.md)
            generation, account = self.load_generation_and_account(generation_id)
            if not generation.waited_since(now - self.policy.pending_ttl):
                return None
            self._expire(generation, account, queue, now)
        return EXPIRED
