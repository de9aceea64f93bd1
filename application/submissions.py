"""Submission use cases: accept a generation request, and read a generation back."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from eventsourcing.application import AggregateNotFoundError

from application.admissions import Admission, AdmissionDesk, replayed_receipt
from application.base import AtelierBase
from application.errors import GenerationNotFound, SubmissionsClosed
from application.idempotency import IdempotencyKey
from application.ports import QueuePositions
from application.views import GenerationDetails, Receipt
from domain.accounts import TokenAccount
from domain.catalogue import require_model
from domain.errors import InvalidImages
from domain.generations import Generation
from domain.images import LinkedImage, link_images
from domain.pricing import token_cost
from domain.prompts import build_prompt, checked_custom_prompt
from domain.requests import GenerationRequest


class SubmissionUseCases(AtelierBase):
    """POST /api/generate and GET /api/generations/{id}, without the HTTP."""

    queue_positions: QueuePositions | None = None

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.admissions = AdmissionDesk(self)

    def close(self) -> None:
        self.admissions.close()
        super().close()

    def require_submissions_open(self) -> None:
        if not self.policy.generation_enabled:
            raise SubmissionsClosed

    def submit_generation(
        self,
        user_id: str,
        request: GenerationRequest,
        idempotency_key: str | None = None,
        account: TokenAccount | None = None,
    ) -> Receipt:
        """Accept a generation: the contract's checks in order, then one atomic save.

        The checks that need no shared state run here, in the caller's thread; the account
        (rate limit, tokens, idempotency) and the queue (capacity) decide in the admission
        desk, which saves them with the new generation and its ImageLinked events together or
        not at all (application/admissions.py). The rate limit is also checked here, before
        the optional image reachability check, as the contract orders. `account`, when the
        caller already loaded it (`require_active_account`), saves reading it again.
        """
        self.require_submissions_open()
        policy = self.policy
        key = IdempotencyKey(idempotency_key, request.fingerprint()) if idempotency_key else None
        if account is None or account.user_id != user_id:
            account = self.load_account(user_id)
        account.require_active()
        if key is not None:
            replay = self._replay(account, key)
            if replay is not None:
                return replay
        custom_prompt = checked_custom_prompt(request.custom_prompt, policy.banned_words)
        require_model(request.model, request.aspect_ratio)
        images = link_images(request.product_images, request.model_images, policy.cloud_names)
        account.check_rate_limit(self.clock(), policy.hourly_limit)
        self._verify_reachable(images)
        return self.admissions.admit(
            Admission(
                user_id=user_id,
                account=account,
                request=request,
                key=key,
                custom_prompt=custom_prompt,
                prompt=build_prompt(request.style, request.quality, custom_prompt),
                cost=token_cost(request.quality),
                images=images,
            )
        )

    def get_generation(self, user_id: str, generation_id: UUID) -> GenerationDetails:
        """The caller's generation; GenerationNotFound for another user's or an unknown id."""
        generation = self._owned_generation(user_id, generation_id)
        position = None
        if generation.is_pending and self.queue_positions is not None:
            position = self.queue_positions.position_of(generation_id)
        return GenerationDetails(generation, position)

    def _owned_generation(self, user_id: str, generation_id: UUID) -> Generation:
        try:
            generation: object = self.repository.get(generation_id)
        except AggregateNotFoundError:
            raise GenerationNotFound from None
        if not isinstance(generation, Generation) or generation.user_id != user_id:
            raise GenerationNotFound
        return generation

    def _replay(self, account: TokenAccount, key: IdempotencyKey) -> Receipt | None:
        """The original receipt if this key already admitted this request, else None."""
        now = self.clock()
        answer = account.recall("generate", key.key, key.fingerprint, now)
        if answer is None:
            return None
        generation: Generation = self.repository.get(UUID(answer))
        return replayed_receipt(generation, account, self.policy.hourly_limit, now)

    def _verify_reachable(self, images: list[LinkedImage]) -> None:
        if self.image_checker is None:
            return
        pairs = [(f"{image.role}Images.{image.order}", image.url) for image in images]
        problems = self.image_checker.unreachable(pairs)
        if problems:
            raise InvalidImages("One or more images could not be reached.", problems)
