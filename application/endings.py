"""How a generation ends: completed, failed, cancelled, timed out or expired, with its tokens."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from uuid import UUID

from application.base import AtelierBase
from application.queries import GenerationRecord
from application.retries import retry_on_conflict
from domain.accounts import TokenAccount
from domain.errors import InvalidTransition
from domain.generations import COMPLETED, TIMED_OUT, Generation
from domain.queue import GenerationQueue
from domain.results import check_result_images

MAX_REASON_LENGTH = 500


class EndingUseCases(AtelierBase):
    def complete(self, generation_id: UUID, result_images: list[str]) -> GenerationRecord:
        urls = check_result_images(result_images)
        return self._end_processing(generation_id, lambda g, now: g.complete(urls, now))

    def fail(self, generation_id: UUID, reason: str) -> GenerationRecord:
        reason = " ".join(reason.split())[:MAX_REASON_LENGTH] or "Generation failed."
        return self._end_processing(generation_id, lambda g, now: g.fail(reason, now))

    def cancel(self, user_id: str, generation_id: UUID) -> GenerationRecord:
        """GenerationNotFound unless `user_id` owns it; InvalidTransition unless it is pending."""

        def decide_and_save() -> GenerationRecord:
            now = self.clock()
            with self.queue_lock:
                queue = self.load_queue()  # before the generation (docs/lifecycle.md)
                generation, account = self.load_generation_and_account(generation_id, user_id)
                generation.cancel(now)
                self._record_end(generation, account, now, queue)
            return GenerationRecord.of(generation, None)

        return retry_on_conflict(decide_and_save)

    def _end_processing(
        self, generation_id: UUID, end: Callable[[Generation, datetime], None]
    ) -> GenerationRecord:
        """A worker's report; after the lease ran out, InvalidTransition (and timed out)."""

        def decide_and_save() -> GenerationRecord:
            now = self.clock()
            generation, account = self.load_generation_and_account(generation_id)
            self._refuse_after_lease(generation, account, now)
            end(generation, now)
            self._record_end(generation, account, now)
            return GenerationRecord.of(generation, None)

        return retry_on_conflict(decide_and_save)

    def _refuse_after_lease(
        self, generation: Generation, account: TokenAccount, now: datetime
    ) -> None:
        if not generation.lease_ran_out(now):
            return
        ran_out = generation.lease_expires_at
        self._time_out(generation, account, now)
        moment = ran_out.isoformat(timespec="seconds") if ran_out else "its end"
        raise InvalidTransition(
            f"The lease on this generation ran out at {moment}; it was failed as timed out."
        )

    def _time_out(self, generation: Generation, account: TokenAccount, now: datetime) -> None:
        generation.fail(TIMED_OUT, now)
        self._record_end(generation, account, now)

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
