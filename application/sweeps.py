"""Sweeps: the time limits end what nobody ended (leases that ran out, pending that waited)."""

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


@dataclass(frozen=True)
class SweepReport:
    """`busy` when a full batch was handled and more may be due."""

    timed_out: list[UUID] = field(default_factory=list)
    expired: list[UUID] = field(default_factory=list)
    busy: bool = False


class SweepUseCases(EndingUseCases):
    def sweep(self, now: datetime | None = None, limit: int = SWEEP_BATCH) -> SweepReport:
        """Time out ran-out leases and expire stale pending ones (docs/lifecycle.md)."""
        view = self.queue_view
        if view is None:
            return SweepReport()
        now = now or self.clock()
        lease_candidates = view.expired_leases(now, limit)
        timed_out = [g for g in lease_candidates if self._sweep_one(self._time_out_if_due, g, now)]
        cutoff = now - self.policy.pending_ttl
        pending_candidates = view.pending_requested_before(cutoff, limit)
        expired = [g for g in pending_candidates if self._sweep_one(self._expire_if_due, g, now)]
        busy = (bool(timed_out) and len(lease_candidates) >= limit) or (
            bool(expired) and len(pending_candidates) >= limit
        )
        if timed_out or expired:
            logger.info("sweep: %d timed out, %d expired", len(timed_out), len(expired))
        return SweepReport(timed_out=timed_out, expired=expired, busy=busy)

    def _sweep_one(
        self, decide: Callable[[UUID, datetime], bool], generation_id: UUID, now: datetime
    ) -> bool:
        try:
            return retry_on_conflict(lambda: decide(generation_id, now))
        except GenerationNotFound:
            return False
        except Contention:
            logger.warning("sweep: generation %s stayed contended; next sweep", generation_id)
            return False

    def _time_out_if_due(self, generation_id: UUID, now: datetime) -> bool:
        generation, account = self.load_generation_and_account(generation_id)
        if not generation.lease_ran_out(now):
            return False
        self._time_out(generation, account, now)
        return True

    def _expire_if_due(self, generation_id: UUID, now: datetime) -> bool:
        with self.queue_lock:
            queue = self.load_queue()  # before the generation (docs/lifecycle.md)
            generation, account = self.load_generation_and_account(generation_id)
            if not generation.waited_since(now - self.policy.pending_ttl):
                return False
            self._expire(generation, account, queue, now)
        return True
