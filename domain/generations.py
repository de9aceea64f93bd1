"""Generation: one requested image generation and its state machine, pending to an end state."""

from __future__ import annotations

from dataclasses import asdict
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any
from uuid import UUID

from eventsourcing.domain import Aggregate, event

from domain.errors import InvalidTransition
from domain.images import LinkedImage
from domain.requests import AspectRatio, GenerationRequest, Quality, Style
from domain.results import ResultImage


class GenerationStatus(StrEnum):
    """Where a generation is in its life, in the contract's order."""

    PENDING = "pending"
    PROCESSING = "processing"
    COMPLETED = "completed"
    FAILED = "failed"
    CANCELLED = "cancelled"
    EXPIRED = "expired"


PENDING, PROCESSING, COMPLETED, FAILED, CANCELLED, EXPIRED = GenerationStatus
STATUSES = tuple(GenerationStatus)
END_STATES = frozenset({COMPLETED, FAILED, CANCELLED, EXPIRED})
TIMED_OUT = "timed out"
DEFAULT_LEASE = timedelta(minutes=10)
DEFAULT_PENDING_TTL = timedelta(hours=1)
DEFAULT_LEASE_ATTEMPTS = 3


class Generation(Aggregate):
    """A user's request for generated photos, its images, and what became of it."""

    class GenerationRequested(Aggregate.Created):
        class_version = 3  # v2: request_id; v3: queue_capacity

        user_id: str
        product_images: list[str]
        model_images: list[str]
        style: Style
        aspect_ratio: AspectRatio
        quality: Quality
        model: str
        custom_prompt: str | None
        parameters: dict[str, Any]
        prompt: str
        token_cost: int
        queue_position: int
        requested_at: datetime
        request_id: str | None  # the X-Request-ID it came with (None: before v2, or no HTTP)
        queue_capacity: int | None  # the QUEUE_MAX_SIZE it was admitted under (None: before v3)

        @staticmethod
        def upcast_v1_v2(state: dict[str, Any]) -> None:
            state["request_id"] = None

        @staticmethod
        def upcast_v2_v3(state: dict[str, Any]) -> None:
            state["queue_capacity"] = None

    class ImageLinked(Aggregate.Event):
        url: str
        role: str  # "product" or "model"; "result" for what a worker returned
        order: int
        is_primary: bool
        public_id: str
        format: str | None
        width: int | None
        height: int | None

    class GenerationStarted(Aggregate.Event):
        worker_id: str
        lease_expires_at: datetime
        at: datetime

    class LeaseExtended(Aggregate.Event):
        worker_id: str
        lease_expires_at: datetime
        at: datetime

    class GenerationRequeued(Aggregate.Event):
        at: datetime

    class GenerationCompleted(Aggregate.Event):
        result_images: list[str]
        at: datetime

    class GenerationFailed(Aggregate.Event):
        reason: str
        at: datetime

    class GenerationCancelled(Aggregate.Event):
        at: datetime

    class ProcessingCancelled(Aggregate.Event):
        at: datetime

    class GenerationExpired(Aggregate.Event):
        at: datetime

    @event(GenerationRequested)
    def __init__(
        self,
        id: UUID,  # the library passes the chosen aggregate id by this name
        user_id: str,
        product_images: list[str],
        model_images: list[str],
        style: Style,
        aspect_ratio: AspectRatio,
        quality: Quality,
        model: str,
        custom_prompt: str | None,
        parameters: dict[str, Any],
        prompt: str,
        token_cost: int,
        queue_position: int,
        requested_at: datetime,
        request_id: str | None,
        queue_capacity: int | None,
    ) -> None:
        self.user_id = user_id
        self.request_id = request_id
        self.product_images = product_images
        self.model_images = model_images
        self.style = style
        self.aspect_ratio = aspect_ratio
        self.quality = quality
        self.model = model
        self.custom_prompt = custom_prompt
        self.parameters = parameters
        self.prompt = prompt
        self.token_cost = token_cost
        self.queue_position = queue_position
        self.requested_at = requested_at
        self.updated_at = requested_at
        self.status: GenerationStatus = PENDING
        self.images: list[dict[str, Any]] = []
        self.worker_id: str | None = None
        self.attempt = 0  # how many times it was claimed
        self.started_at: datetime | None = None
        self.lease_expires_at: datetime | None = None
        self.completed_at: datetime | None = None
        self.result_images: list[str] = []
        self.error: str | None = None

    @classmethod
    def request(
        cls,
        generation_id: UUID,
        user_id: str,
        request: GenerationRequest,
        custom_prompt: str | None,
        prompt: str,
        token_cost: int,
        queue_position: int,
        images: list[LinkedImage],
        at: datetime,
        request_id: str | None = None,
        queue_capacity: int | None = None,
    ) -> Generation:
        """A new pending generation with one ImageLinked event per image of the request."""
        generation = cls(
            id=generation_id,
            user_id=user_id,
            product_images=list(request.product_images),
            model_images=list(request.model_images),
            style=request.style,
            aspect_ratio=request.aspect_ratio,
            quality=request.quality,
            model=request.model,
            custom_prompt=custom_prompt,
            parameters=request.parameters.as_dict(),
            prompt=prompt,
            token_cost=token_cost,
            queue_position=queue_position,
            requested_at=at,
            request_id=request_id,
            queue_capacity=queue_capacity,
        )
        for image in images:
            generation._image_linked(**asdict(image))
        return generation

    @event(ImageLinked)
    def _image_linked(
        self,
        url: str,
        role: str,
        order: int,
        is_primary: bool,
        public_id: str,
        format: str | None,
        width: int | None,
        height: int | None,
    ) -> None:
        self.images.append(
            {
                "url": url,
                "role": role,
                "order": order,
                "isPrimary": is_primary,
                "publicId": public_id,
                "format": format,
                "width": width,
                "height": height,
            }
        )

    @property
    def is_pending(self) -> bool:
        return self.status == PENDING

    @property
    def has_ended(self) -> bool:
        return self.status in END_STATES

    def lease_ran_out(self, now: datetime) -> bool:
        """Processing with a lease that ended at or before `now`: it can only be timed out."""
        return (
            self.status == PROCESSING
            and self.lease_expires_at is not None
            and self.lease_expires_at <= now
        )

    def was_cancelled_under(self, worker_id: str) -> bool:
        """Cancelled by its owner while `worker_id` held its lease."""
        return self.status == CANCELLED and self.worker_id == worker_id

    def waited_since(self, cutoff: datetime) -> bool:
        """Still pending, and requested at or before `cutoff`."""
        return self.status == PENDING and self.requested_at <= cutoff

    def _require(self, *statuses: GenerationStatus) -> None:
        if self.status not in statuses:
            allowed = " or ".join(statuses)
            raise InvalidTransition(f"Generation is {self.status}; this needs it to be {allowed}.")

    def _require_lease(self, worker_id: str, now: datetime) -> None:
        self._require(PROCESSING)
        if self.worker_id != worker_id:
            raise InvalidTransition("Generation is processing under another worker's lease.")
        if self.lease_ran_out(now):
            ended = self.lease_expires_at
            moment = ended.isoformat(timespec="seconds") if ended else "its end"
            raise InvalidTransition(f"The lease on this generation ran out at {moment}.")

    def start(self, worker_id: str, lease_expires_at: datetime, at: datetime) -> None:
        """A worker claims the generation until its lease runs out."""
        self._require(PENDING)
        self._started(worker_id=worker_id, lease_expires_at=lease_expires_at, at=at)

    @event(GenerationStarted)
    def _started(self, worker_id: str, lease_expires_at: datetime, at: datetime) -> None:
        self.status = PROCESSING
        self.worker_id = worker_id
        self.attempt += 1
        self.started_at = at
        self.lease_expires_at = lease_expires_at
        self.updated_at = at

    def extend_lease(self, worker_id: str, lease_expires_at: datetime, at: datetime) -> None:
        """The lease holder's heartbeat: its lease now ends at `lease_expires_at`."""
        self._require_lease(worker_id, at)
        self._lease_extended(worker_id=worker_id, lease_expires_at=lease_expires_at, at=at)

    @event(LeaseExtended)
    def _lease_extended(self, worker_id: str, lease_expires_at: datetime, at: datetime) -> None:
        self.lease_expires_at = lease_expires_at

    def time_out(self, at: datetime, max_attempts: int) -> bool:
        """The lease ran out: back to pending (True) until claimed `max_attempts` times, then
        failed as timed out (False)."""
        self._require(PROCESSING)
        if not self.lease_ran_out(at):
            raise InvalidTransition("The lease on this generation has not run out.")
        if self.attempt < max_attempts:
            self._requeued(at=at)
            return True
        self._failed(reason=TIMED_OUT, at=at)
        return False

    @event(GenerationRequeued)
    def _requeued(self, at: datetime) -> None:
        self.status = PENDING
        self.worker_id = None
        self.started_at = None
        self.lease_expires_at = None
        self.updated_at = at

    def complete(self, worker_id: str, results: list[ResultImage], at: datetime) -> None:
        """Each result linked (role `result`, in order, the first primary), then completed."""
        self._require_lease(worker_id, at)
        for order, result in enumerate(results):
            self._image_linked(
                url=result.url,
                role="result",
                order=order,
                is_primary=order == 0,
                public_id=result.public_id,
                format=result.format,
                width=result.width,
                height=result.height,
            )
        self._completed(result_images=[result.url for result in results], at=at)

    @event(GenerationCompleted)
    def _completed(self, result_images: list[str], at: datetime) -> None:
        self.status = COMPLETED
        self.result_images = result_images
        self.completed_at = at
        self.updated_at = at
        self.lease_expires_at = None

    def fail(self, worker_id: str, reason: str, at: datetime) -> None:
        self._require_lease(worker_id, at)
        self._failed(reason=reason, at=at)

    @event(GenerationFailed)
    def _failed(self, reason: str, at: datetime) -> None:
        self.status = FAILED
        self.error = reason
        self.completed_at = at
        self.updated_at = at
        self.lease_expires_at = None

    def cancel(self, at: datetime) -> None:
        """Its owner's cancel; a processing one's worker learns it at its next heartbeat."""
        self._require(PENDING, PROCESSING)
        if self.status == PENDING:
            self._cancelled(at=at)
        else:
            self._processing_cancelled(at=at)

    @event(GenerationCancelled)
    def _cancelled(self, at: datetime) -> None:
        self.status = CANCELLED
        self.completed_at = at
        self.updated_at = at

    @event(ProcessingCancelled)
    def _processing_cancelled(self, at: datetime) -> None:
        self.status = CANCELLED
        self.completed_at = at
        self.updated_at = at
        self.lease_expires_at = None

    def expire(self, at: datetime) -> None:
        self._require(PENDING)
        self._expired(at=at)

    @event(GenerationExpired)
    def _expired(self, at: datetime) -> None:
        self.status = EXPIRED
        self.completed_at = at
        self.updated_at = at
