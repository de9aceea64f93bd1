"""Submission use cases: accept a generation request (the contract's checks top to bottom),
and read a generation back."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID, uuid4

from eventsourcing.application import AggregateNotFoundError

from application.base import AtelierBase
from application.errors import SubmissionsClosed
from application.group_commit import GroupCommit
from application.idempotency import IdempotencyKey
from application.queries import GenerationRecord
from application.views import RateLimitStatus, Receipt
from domain.accounts import TokenAccount
from domain.catalogue import require_model
from domain.errors import DomainError, InvalidImages
from domain.generations import Generation
from domain.images import LinkedImage, link_images
from domain.pricing import estimated_time, token_cost
from domain.prompts import build_prompt, checked_custom_prompt
from domain.queue import GenerationQueue
from domain.requests import GenerationRequest

# Parses the request body: the request and its Idempotency-Key, or a refusal.
RequestReader = Callable[[], tuple[GenerationRequest, str | None]]


@dataclass(frozen=True)
class Submission:
    """A request that passed every check needing no shared state, waiting for its batch."""

    user_id: str
    account: TokenAccount  # loaded by the request thread, fresh as of the request
    request: GenerationRequest
    key: IdempotencyKey | None
    custom_prompt: str | None
    prompt: str
    cost: int
    images: list[LinkedImage]
    generation_id: UUID  # fixed before the first attempt, so a retry finds a lost commit's
    request_id: str | None


class SubmissionUseCases(AtelierBase):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.group_commit = GroupCommit[Submission, Receipt](
            self._decide_batch, self.queue_lock, on_batch=self.telemetry.admission_batch
        )

    def close(self) -> None:
        self.group_commit.close()
        super().close()

    def require_submissions_open(self) -> None:
        if not self.policy.generation_enabled:
            raise SubmissionsClosed

    def submit_generation(
        self,
        user_id: str,
        request: GenerationRequest,
        idempotency_key: str | None = None,
        request_id: str | None = None,
    ) -> Receipt:
        """Accept a generation, or raise the domain error refusing it."""
        self.require_submissions_open()
        return self.submit_read(user_id, lambda: (request, idempotency_key), request_id)

    def submit_read(
        self, user_id: str, read: RequestReader, request_id: str | None = None
    ) -> Receipt:
        """`submit_generation` for a request still to be parsed: `read` runs after the account
        and switch checks, as the contract orders them, and the account is read once."""
        prepared = self.prepare_submission(user_id, read, request_id)
        if isinstance(prepared, Receipt):
            return prepared
        self.verify_images(prepared)
        return self.group_commit.submit(prepared)

    async def commit_submission(self, submission: Submission) -> Receipt:
        """The group commit's answer to a prepared submission, awaited without a thread."""
        return await self.group_commit.submit_async(submission)

    def prepare_submission(
        self, user_id: str, read: RequestReader, request_id: str | None = None
    ) -> Receipt | Submission:
        """Every check that needs no other submission and no network, in the contract's
        order: the receipt of an idempotent replay, or the submission for `verify_images`
        and then the group commit."""
        account = self.load_account(user_id)
        account.require_active()
        self.require_submissions_open()
        request, idempotency_key = read()
        policy = self.policy
        key = IdempotencyKey(idempotency_key, request.fingerprint()) if idempotency_key else None
        if key is not None:
            replay = self._replay(account, key, self.clock())
            if replay is not None:
                return replay
        custom_prompt = checked_custom_prompt(request.custom_prompt, policy.banned_words)
        require_model(request.model, request.aspect_ratio)
        images = link_images(request.product_images, request.model_images, policy.cloud_names)
        account.check_rate_limit(self.clock(), policy.hourly_limit)
        return Submission(
            user_id=user_id,
            account=account,
            request=request,
            key=key,
            custom_prompt=custom_prompt,
            prompt=build_prompt(request.style, request.quality, custom_prompt),
            cost=token_cost(request.quality),
            images=images,
            generation_id=uuid4(),
            request_id=request_id,
        )

    @property
    def verifies_images(self) -> bool:
        return self.image_checker is not None

    def verify_images(self, submission: Submission) -> None:
        """The last check: InvalidImages unless every image answers (when configured)."""
        if self.image_checker is None:
            return
        images = submission.images
        pairs = [(f"{image.role}Images.{image.order}", image.url) for image in images]
        problems = self.image_checker.unreachable(pairs)
        if problems:
            raise InvalidImages("One or more images could not be reached.", problems)

    def _decide_batch(
        self, batch: list[Submission], first_attempt: bool
    ) -> list[Receipt | BaseException]:
        queue = self.load_queue()
        accounts: dict[str, TokenAccount] = {}
        generations: dict[UUID, Generation] = {}
        outcomes: list[Receipt | BaseException] = []
        for submission in batch:
            now = self.clock()
            saved = None if first_attempt else self._saved_by_a_lost_commit(submission, now)
            if saved is not None:
                outcomes.append(saved)
                continue
            try:
                account = self._batch_account(submission, accounts, first_attempt)
                outcome = self._replay(account, submission.key, now, generations) or self._accept(
                    submission, account, queue, generations, now
                )
            except DomainError as refusal:
                outcomes.append(refusal)
            else:
                outcomes.append(outcome)
        if generations:  # all refused or replayed: nothing to write
            self.save(*accounts.values(), *generations.values(), queue)
        return outcomes

    def _saved_by_a_lost_commit(self, submission: Submission, now: datetime) -> Receipt | None:
        """Its answer if an earlier attempt saved it but its acknowledgement was lost."""
        try:
            generation: Generation = self.repository.get(submission.generation_id)
        except AggregateNotFoundError:
            return None
        account = self.load_account(submission.user_id)
        return self._receipt(generation, account, now, replayed=False)

    def _batch_account(
        self, submission: Submission, accounts: dict[str, TokenAccount], first_attempt: bool
    ) -> TokenAccount:
        """The request thread's copy unless a newer one was saved since or a race was lost."""
        account = accounts.get(submission.user_id)
        if account is None:
            account = submission.account
            if not first_attempt or account.version < self.saved_versions.newest(account.id):
                account = self.load_account(submission.user_id)
            accounts[submission.user_id] = account
        return account

    def _accept(
        self,
        submission: Submission,
        account: TokenAccount,
        queue: GenerationQueue,
        generations: dict[UUID, Generation],
        now: datetime,
    ) -> Receipt:
        """A refusal leaves the batch's aggregates untouched."""
        policy = self.policy
        account.check_admission(submission.cost, now, policy.hourly_limit)
        queue.check_room(policy.queue_capacity)
        generation_id = submission.generation_id
        key = submission.key
        remember = key.remembered_until(now, policy.idempotency_ttl) if key else None
        account.reserve(generation_id, submission.cost, now, policy.hourly_limit, remember)
        position = queue.admit(generation_id, policy.queue_capacity, now)
        generation = Generation.request(
            generation_id,
            submission.user_id,
            submission.request,
            submission.custom_prompt,
            submission.prompt,
            submission.cost,
            position,
            submission.images,
            now,
            submission.request_id,
            policy.queue_capacity,
        )
        generations[generation_id] = generation
        return self._receipt(generation, account, now, replayed=False)

    def _replay(
        self,
        account: TokenAccount,
        key: IdempotencyKey | None,
        now: datetime,
        batch_generations: Mapping[UUID, Generation] | None = None,
    ) -> Receipt | None:
        """The original 201 when `key` already admitted this request, perhaps in this batch."""
        if key is None:
            return None
        answer = account.recall("generate", key.key, key.fingerprint, now)
        if answer is None:
            return None
        generation = (batch_generations or {}).get(UUID(answer))
        if generation is None:
            generation = self.repository.get(UUID(answer))
        return self._receipt(generation, account, now, replayed=True)

    def _receipt(
        self, generation: Generation, account: TokenAccount, now: datetime, replayed: bool
    ) -> Receipt:
        """The 201 of an acceptance; a replay answers what the original said."""
        return Receipt(
            generation_id=generation.id,
            status="pending",
            token_cost=generation.token_cost,
            estimated_time=estimated_time(generation.quality),
            queue_position=generation.queue_position,
            replayed=replayed,
            rate_limit=RateLimitStatus.of(account, self.policy.hourly_limit, now),
        )

    def get_generation(self, user_id: str, generation_id: UUID) -> GenerationRecord:
        generation = self.load_generation(generation_id, owner=user_id)
        position = None
        if generation.is_pending and self.queue_view is not None:
            position = self.queue_view.position_of(generation_id)
        return GenerationRecord.of(generation, position)
