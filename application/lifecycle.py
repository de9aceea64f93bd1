"""Lifecycle use cases: a generation's life after acceptance, and the tokens that go with it.

Workers claim the oldest pending generation, then complete or fail it; its owner may cancel it
while it waits; the sweeper fails generations whose lease ran out ("timed out") and expires
those that waited longer than the pending time to live. Every end state is saved in one
transaction with its token effect (captured on completion, released otherwise) and, when the
generation leaves pending, with the queue aggregate's count, so a crash never leaves one
without the other and a reservation is resolved exactly once: the generation's version check
refuses a second end state, and the account refuses a second capture or release.
"""

from __future__ import annotations

import logging
import threading
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from uuid import UUID

from eventsourcing.application import AggregateNotFoundError

from application.base import AtelierBase
from application.errors import Contention, GenerationNotFound
from application.ports import (
    GenerationJob,
    GeneratorFailure,
    ImageGenerator,
    PendingGenerations,
)
from application.retries import retry_on_conflict
from application.views import GenerationDetails
from domain.accounts import TokenAccount
from domain.errors import InvalidRequest, InvalidTransition
from domain.generations import TIMED_OUT, Generation
from domain.queue import GenerationQueue
from domain.results import check_result_images

logger = logging.getLogger(__name__)

CLAIM_CANDIDATES = 10  # how many of the oldest pending a claim tries before asking again
CLAIM_ROUNDS = 5  # how many times a claim asks the read model before answering "none"
SWEEP_BATCH = 100  # generations each sweep of each kind handles at most
MAX_REASON_LENGTH = 500
UNEXPECTED_GENERATOR_ERROR = "The image generator failed unexpectedly."
UNUSABLE_RESULTS = "The image generator returned unusable result images."


@dataclass(frozen=True)
class SweepReport:
    """What one sweep changed; `busy` when a full batch was handled and more may be due."""

    timed_out: list[UUID] = field(default_factory=list)
    expired: list[UUID] = field(default_factory=list)
    busy: bool = False


@dataclass(frozen=True)
class WorkOutcome:
    """What became of one generation a worker claimed and ran."""

    generation_id: UUID
    status: str
    error: str | None
    result_images: list[str]


class LifecycleUseCases(AtelierBase):
    """Claim, complete, fail, cancel, and the sweeps of the time limits, without the HTTP."""

    pending_generations: PendingGenerations | None = None

    # ---- workers -----------------------------------------------------------------------

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # The oldest pending ids the read model gave this process, not yet tried. Anything
        # pending and not in here was accepted after all of them, so trying these first keeps
        # FIFO order while asking the read model (and waiting for it) once per batch.
        self._claim_candidates: deque[UUID] = deque()
        self._claim_candidates_lock = threading.Lock()

    def claim(self, worker_id: str) -> GenerationDetails | None:
        """The oldest pending generation, now processing under `worker_id`'s lease; or None.

        The read model may lag the log, so its answer is only a list of candidates in FIFO
        order: the generation's version check (and the queue's) decides who wins each one, and
        a claim that loses a race, or finds a candidate no longer pending, tries the next.
        """
        view = self._pending_view()
        for _ in range(CLAIM_ROUNDS):
            while (generation_id := self._next_candidate()) is not None:
                claimed = self._claim_one(generation_id, worker_id)
                if claimed is not None:
                    return GenerationDetails(claimed, None)
            candidates = view.oldest_pending(CLAIM_CANDIDATES)
            if not candidates:
                return None
            with self._claim_candidates_lock:
                self._claim_candidates.clear()
                self._claim_candidates.extend(candidates)
        return None

    def _next_candidate(self) -> UUID | None:
        with self._claim_candidates_lock:
            return self._claim_candidates.popleft() if self._claim_candidates else None

    def complete(self, generation_id: UUID, result_images: list[str]) -> GenerationDetails:
        """A processing generation completes with its result images; its tokens are captured.

        Results that arrive after the lease ran out are refused (InvalidTransition) and the
        generation is failed as timed out there and then, exactly as the sweeper would have:
        the outcome never depends on whether the sweeper ran first.
        """
        urls = check_result_images(result_images)

        def decide_and_save() -> GenerationDetails:
            now = self.clock()
            generation, account = self._generation_and_account(generation_id)
            self._refuse_after_lease(generation, account, now)
            generation.complete(urls, now)
            account.capture(generation.id, now)
            self.save(generation, account)
            return GenerationDetails(generation, None)

        return retry_on_conflict(decide_and_save)

    def fail(self, generation_id: UUID, reason: str) -> GenerationDetails:
        """A processing generation failed for `reason`; its tokens are released.

        Like completion, a failure reported after the lease ran out is refused and the
        generation is failed as timed out.
        """
        reason = " ".join(reason.split())[:MAX_REASON_LENGTH] or "Generation failed."

        def decide_and_save() -> GenerationDetails:
            now = self.clock()
            generation, account = self._generation_and_account(generation_id)
            self._refuse_after_lease(generation, account, now)
            generation.fail(reason, now)
            account.release(generation.id, now)
            self.save(generation, account)
            return GenerationDetails(generation, None)

        return retry_on_conflict(decide_and_save)

    def work_once(self, worker_id: str, generator: ImageGenerator) -> WorkOutcome | None:
        """Claim one generation, run it through `generator`, and record how it ended.

        None when there was nothing to claim, or when the generator says it cannot work now
        (its circuit breaker is open): the queue then waits rather than being drained into
        failures. A generator that gives up fails the generation with its reason.
        """
        if not generator.is_available():
            return None
        details = self.claim(worker_id)
        if details is None:
            return None
        generation = details.generation
        job = job_of(generation)
        logger.info(
            "worker %s runs generation %s with %s", worker_id, job.generation_id, generator.name
        )
        try:
            urls = generator.generate(job)
        except GeneratorFailure as failure:
            reason = failure.reason
            return self._outcome(lambda: self.fail(job.generation_id, reason), job)
        except Exception:
            logger.exception(
                "generator %s raised on generation %s", generator.name, job.generation_id
            )
            return self._outcome(
                lambda: self.fail(job.generation_id, UNEXPECTED_GENERATOR_ERROR), job
            )
        try:
            return self._outcome(lambda: self.complete(job.generation_id, urls), job)
        except InvalidRequest as error:
            logger.error("generator %s returned unusable results: %s", generator.name, error)
            return self._outcome(lambda: self.fail(job.generation_id, UNUSABLE_RESULTS), job)

    # ---- owners ------------------------------------------------------------------------

    def cancel(self, user_id: str, generation_id: UUID) -> GenerationDetails:
        """The owner cancels a pending generation; its tokens are released and it leaves the
        queue. GenerationNotFound for another user's or an unknown id; InvalidTransition unless
        it is pending."""

        def decide_and_save() -> GenerationDetails:
            now = self.clock()
            with self.queue_lock:
                queue = self.load_queue()  # before the generation: see _generation_and_account
                generation, account = self._generation_and_account(generation_id, owner=user_id)
                generation.cancel(now)
                account.release(generation.id, now)
                queue.leave(generation.id, "cancelled", now)
                self.save(generation, account, queue)
            return GenerationDetails(generation, None)

        return retry_on_conflict(decide_and_save)

    # ---- time limits -------------------------------------------------------------------

    def sweep(self, now: datetime | None = None, limit: int = SWEEP_BATCH) -> SweepReport:
        """Fail generations whose lease ran out ("timed out") and expire those pending longer
        than the pending time to live, releasing their tokens.

        Safe in any number of processes at once: each candidate is reloaded and decided again,
        so one that another sweeper, a worker or its owner ended first is skipped, and a lost
        version race is retried, never reported as an error.
        """
        view = self.pending_generations
        if view is None:
            return SweepReport()
        now = now or self.clock()
        lease_candidates = view.expired_leases(now, limit)
        timed_out = [g for g in lease_candidates if self._settle(self._time_out_if_due, g, now)]
        cutoff = now - self.policy.pending_ttl
        pending_candidates = view.pending_requested_before(cutoff, limit)
        expired = [g for g in pending_candidates if self._settle(self._expire_if_due, g, now)]
        busy = (bool(timed_out) and len(lease_candidates) >= limit) or (
            bool(expired) and len(pending_candidates) >= limit
        )
        if timed_out or expired:
            logger.info("sweep: %d timed out, %d expired", len(timed_out), len(expired))
        return SweepReport(timed_out=timed_out, expired=expired, busy=busy)

    # ---- helpers -----------------------------------------------------------------------

    def _pending_view(self) -> PendingGenerations:
        if self.pending_generations is None:
            raise RuntimeError(
                "No pending-generations read model is wired (Atelier.pending_generations)."
            )
        return self.pending_generations

    def _generation(self, generation_id: UUID) -> Generation:
        try:
            generation: object = self.repository.get(generation_id)
        except AggregateNotFoundError:
            raise GenerationNotFound from None
        if not isinstance(generation, Generation):
            raise GenerationNotFound
        return generation

    def _generation_and_account(
        self, generation_id: UUID, owner: str | None = None
    ) -> tuple[Generation, TokenAccount]:
        """The generation and its owner's account, read as a consistent pair.

        A transition is saved in one transaction with the account (token effect) and, out of
        pending, the queue (its count). Reading those first and the generation last means a
        generation still shown pending or processing is also still counted in the queue read
        and holds its reservation in the account read: a writer that ended it in between is
        caught by the version check and retried, and never surfaces as a domain refusal such
        as "no reservation" or "empty queue". `owner`, when given, must own it.
        """
        user_id = owner if owner is not None else self._generation(generation_id).user_id
        account = self.load_account(user_id)
        generation = self._generation(generation_id)
        if generation.user_id != user_id:
            raise GenerationNotFound
        return generation, account

    def _claim_one(self, generation_id: UUID, worker_id: str) -> Generation | None:
        """Claim this candidate if it is still pending; a lost race reloads and decides again."""
        return retry_on_conflict(lambda: self._claim_if_pending(generation_id, worker_id))

    def _claim_if_pending(self, generation_id: UUID, worker_id: str) -> Generation | None:
        """Claim the candidate if it is still pending. One that waited past the pending time
        to live is expired instead, as the sweeper would have, and not handed out."""
        with self.queue_lock:
            queue = self.load_queue()  # before the generation: see _generation_and_account
            try:
                generation, account = self._generation_and_account(generation_id)
            except GenerationNotFound:
                return None
            if not generation.is_pending:
                return None
            now = self.clock()
            if generation.waited_since(now - self.policy.pending_ttl):
                self._expire(generation, account, queue, now)
                return None
            generation.start(worker_id, now + self.policy.lease, now)
            queue.leave(generation.id, "claimed", now)
            self.save(generation, queue)
        return generation

    def _refuse_after_lease(
        self, generation: Generation, account: TokenAccount, now: datetime
    ) -> None:
        """InvalidTransition, after failing it as timed out, if the generation's lease ran out."""
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
        account.release(generation.id, now)
        self.save(generation, account)

    def _time_out_if_due(self, generation_id: UUID, now: datetime) -> bool:
        generation, account = self._generation_and_account(generation_id)
        if not generation.lease_ran_out(now):
            return False
        self._time_out(generation, account, now)
        return True

    def _expire_if_due(self, generation_id: UUID, now: datetime) -> bool:
        with self.queue_lock:
            queue = self.load_queue()  # before the generation: see _generation_and_account
            generation, account = self._generation_and_account(generation_id)
            if not generation.waited_since(now - self.policy.pending_ttl):
                return False
            self._expire(generation, account, queue, now)
        return True

    def _expire(
        self, generation: Generation, account: TokenAccount, queue: GenerationQueue, now: datetime
    ) -> None:
        """Expire a pending generation: its tokens are released and it leaves the queue."""
        generation.expire(now)
        account.release(generation.id, now)
        queue.leave(generation.id, "expired", now)
        self.save(generation, account, queue)

    def _settle(
        self, decide: Callable[[UUID, datetime], bool], generation_id: UUID, now: datetime
    ) -> bool:
        """Run one sweep decision; a generation that stays contended is left for next time."""
        try:
            return retry_on_conflict(lambda: decide(generation_id, now))
        except GenerationNotFound:
            return False
        except Contention:
            logger.warning("sweep: generation %s stayed contended; next sweep", generation_id)
            return False

    def _outcome(self, end: Callable[[], GenerationDetails], job: GenerationJob) -> WorkOutcome:
        """Record a worker's end state; if the lease ran out first, report what it became."""
        try:
            generation = end().generation
        except InvalidTransition as refused:
            logger.warning("generation %s: %s", job.generation_id, refused)
            generation = self._generation(job.generation_id)
        return WorkOutcome(
            generation_id=generation.id,
            status=generation.status,
            error=generation.error,
            result_images=list(generation.result_images),
        )


def job_of(generation: Generation) -> GenerationJob:
    """The plain values a generator needs from a claimed generation."""
    if generation.lease_expires_at is None:
        raise InvalidTransition("Only a claimed generation can be run.")
    return GenerationJob(
        generation_id=generation.id,
        prompt=generation.prompt,
        product_images=tuple(generation.product_images),
        model_images=tuple(generation.model_images),
        style=generation.style,
        aspect_ratio=generation.aspect_ratio,
        quality=generation.quality,
        model=generation.model,
        parameters=dict(generation.parameters),
        lease_expires_at=generation.lease_expires_at,
    )
