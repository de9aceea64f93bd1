"""How a generation ends: completed, failed, cancelled, timed out or expired, with its tokens;
and the lease holder's heartbeat."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from uuid import UUID

from application.base import AtelierBase
from application.queries import GenerationRecord
from application.retries import retry_on_conflict
from domain.accounts import TokenAccount
from domain.generations import COMPLETED, Generation
from domain.queue import GenerationQueue
from domain.results import ResultImage, check_result_images

MAX_REASON_LENGTH = 500


@dataclass(frozen=True)
class Heartbeat:
    """A heartbeat's answer: the lease's new end, or `cancelled` (then no lease)."""

    generation_id: UUID
    worker_id: str
    lease_expires_at: datetime | None
    cancelled: bool


class EndingUseCases(AtelierBase):
    def complete(
        self, generation_id: UUID, worker_id: str, result_images: Sequence[str | ResultImage]
    ) -> GenerationRecord:
        """Bare URLs are recorded with what they tell (`ResultImage.of_url`)."""
        results = [
            image if isinstance(image, ResultImage) else ResultImage.of_url(image)
            for image in result_images
        ]
        check_result_images([result.url for result in results])
        return self._end_processing(
            generation_id, lambda g, now: g.complete(worker_id, results, now)
        )

    def fail(self, generation_id: UUID, worker_id: str, reason: str) -> GenerationRecord:
        reason = reason[:MAX_REASON_LENGTH] if reason.strip() else "Generation failed."
        return self._end_processing(generation_id, lambda g, now: g.fail(worker_id, reason, now))

    def heartbeat(self, generation_id: UUID, worker_id: str) -> Heartbeat:
        """InvalidTransition unless `worker_id` holds the lease (or held it when cancelled)."""

        def decide_and_save() -> Heartbeat:
            now = self.clock()
            generation = self.load_generation(generation_id)
            if generation.was_cancelled_under(worker_id):
                return Heartbeat(generation.id, worker_id, None, cancelled=True)
            generation.extend_lease(worker_id, now + self.policy.lease, now)
            self.save(generation)
            return Heartbeat(generation.id, worker_id, generation.lease_expires_at, False)

        return retry_on_conflict(decide_and_save)

    def cancel(self, user_id: str, generation_id: UUID) -> GenerationRecord:
        """GenerationNotFound unless `user_id` owns it; InvalidTransition once it has ended."""

        def decide_and_save() -> GenerationRecord:
            now = self.clock()
            with self.queue_lock:
                queue = self.load_queue()  # before the generation (docs/lifecycle.md)
                generation, account = self.load_generation_and_account(generation_id, user_id)
                was_pending = generation.is_pending
                generation.cancel(now)
                self._record_end(generation, account, now, queue if was_pending else None)
            return GenerationRecord.of(generation, None)

        return retry_on_conflict(decide_and_save)

    def _end_processing(
        self, generation_id: UUID, end: Callable[[Generation, datetime], None]
    ) -> GenerationRecord:
        """A worker's report: InvalidTransition, with nothing stored, unless it holds the lease."""

        def decide_and_save() -> GenerationRecord:
            now = self.clock()
            generation, account = self.load_generation_and_account(generation_id)
            end(generation, now)
            self._record_end(generation, account, now)
            return GenerationRecord.of(generation, None)

        return retry_on_conflict(decide_and_save)

    def _time_out(
        self, generation: Generation, account: TokenAccount, queue: GenerationQueue, now: datetime
    ) -> bool:
        """Requeued (True), or failed as timed out after its last attempt (False)."""
        if generation.time_out(now, self.policy.lease_max_attempts):
            queue.requeue(generation.id, now)
            self.save(generation, queue)
            return True
        self._record_end(generation, account, now)
        return False

    def _expire(
        self, generation: Generation, account: TokenAccount, queue: GenerationQueue, now: datetime
    ) -> None:
        generation.expire(now)
        self._record_end(generation, account, now, queue)

    def _record_end(
        self,
        generation: Generation,
        account: TokenAccount,
        now: datetime,
        queue: GenerationQueue | None = None,
    ) -> None:
        """Save the end with its tokens and, out of pending, the queue it leaves."""
        if generation.status == COMPLETED:
            account.capture(generation.id, now)
        else:
            account.release(generation.id, now)
        if queue is None:
            self.save(generation, account)
        else:
            queue.leave(generation.id, str(generation.status), now)
            self.save(generation, account, queue)
