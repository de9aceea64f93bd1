"""What the read models answer, as interfaces the infrastructure implements and plain results."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol
from uuid import UUID

from application.webhook_queries import WebhookReads
from domain.generations import Generation


@dataclass(frozen=True)
class QueueStatus:
    depth: int
    capacity: int
    processing: int
    oldest_pending_at: datetime | None


@dataclass(frozen=True)
class Totals:
    generations: dict[str, int]
    tokens: dict[str, int]


@dataclass(frozen=True)
class ProjectionStatus:
    """A view's position and lag; while it fails, its error, since when, and where it stands."""

    name: str
    position: int
    lag: int
    error: str | None = None
    failed_at_position: int | None = None
    failing_since: datetime | None = None

    @property
    def failing(self) -> bool:
        return self.error is not None


@dataclass(frozen=True)
class GenerationRecord:
    """A generation as the contract shows it, from its aggregate or from the views."""

    generation_id: UUID
    user_id: str
    status: str
    product_images: list[str]
    model_images: list[str]
    images: list[dict[str, Any]]
    style: str
    aspect_ratio: str
    quality: str
    model: str
    custom_prompt: str | None
    parameters: dict[str, Any]
    prompt: str
    token_cost: int
    created_at: datetime
    updated_at: datetime
    started_at: datetime | None
    completed_at: datetime | None
    result_images: list[str]
    error: str | None
    queue_position: int | None
    worker_id: str | None = None  # known from the aggregate only
    lease_expires_at: datetime | None = None
    attempt: int = 0

    @classmethod
    def of(cls, generation: Generation, queue_position: int | None) -> GenerationRecord:
        return cls(
            generation_id=generation.id,
            user_id=generation.user_id,
            status=generation.status,
            product_images=list(generation.product_images),
            model_images=list(generation.model_images),
            images=[dict(image) for image in generation.images],
            style=generation.style,
            aspect_ratio=generation.aspect_ratio,
            quality=generation.quality,
            model=generation.model,
            custom_prompt=generation.custom_prompt,
            parameters=dict(generation.parameters),
            prompt=generation.prompt,
            token_cost=generation.token_cost,
            created_at=generation.requested_at,
            updated_at=generation.updated_at,
            started_at=generation.started_at,
            completed_at=generation.completed_at,
            result_images=list(generation.result_images),
            error=generation.error,
            queue_position=queue_position if generation.is_pending else None,
            worker_id=generation.worker_id,
            lease_expires_at=generation.lease_expires_at,
            attempt=generation.attempt,
        )


@dataclass(frozen=True)
class GenerationPage:
    """`next_before` continues the list, None at its end."""

    items: list[GenerationRecord]
    next_before: int | None


@dataclass(frozen=True)
class ActivityBucket:
    """One minute's figures: submitted, completed, failed, cancelled, expired, tokensCaptured."""

    start: datetime
    figures: dict[str, int]


@dataclass(frozen=True)
class UserActivity:
    """A user's generations accepted since a moment, and the tokens captured from them."""

    user_id: str
    generations: int
    tokens_captured: int


@dataclass(frozen=True)
class UserNearLimit:
    """A user whose rolling hour holds `used` of `limit` acceptances; the oldest leaves then."""

    user_id: str
    used: int
    limit: int
    resets_at: datetime


class QueueQuery(Protocol):
    def status(self) -> QueueStatus: ...


class GenerationList(Protocol):
    def page(
        self, user_id: str, status: str | None, limit: int, before: int | None
    ) -> GenerationPage:
        """Newest first, accepted before the one at `before`."""
        ...

    def page_of_everyone(
        self, user_id: str | None, status: str | None, limit: int, before: int | None
    ) -> GenerationPage:
        """Every user's (or `user_id`'s), newest first, accepted before the one at `before`."""
        ...

    def top_users(self, since: datetime, count: int) -> list[UserActivity]:
        """The `count` users with the most generations accepted after `since`, most first."""
        ...


class ActivityQuery(Protocol):
    def minutes(self, count: int, now: datetime) -> list[ActivityBucket]:
        """`count` one-minute buckets, oldest first, the last one holding `now`."""
        ...


class DashboardQuery(Protocol):
    def totals(self) -> Totals: ...


class ReadSide(Protocol):
    """Each query answers once the views have caught up (bounded wait)."""

    @property
    def pending_queue(self) -> QueueQuery: ...

    @property
    def generations(self) -> GenerationList: ...

    @property
    def dashboard(self) -> DashboardQuery: ...

    @property
    def activity(self) -> ActivityQuery: ...

    def near_limit(self, now: datetime, count: int) -> list[UserNearLimit]:
        """Up to `count` users at 80% or more of their hourly limit at `now`, fullest first."""
        ...

    @property
    def webhooks(self) -> WebhookReads: ...

    def status(self) -> list[ProjectionStatus]: ...


class MetricsExposition(Protocol):
    """The service's metrics as a scraper reads them, summed over its server processes."""

    @property
    def content_type(self) -> str: ...

    def render(self) -> bytes: ...
