"""What the webhook read model answers: endpoints, messages with their attempts, counts."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Protocol
from uuid import UUID


@dataclass(frozen=True)
class EndpointRecord:
    """An endpoint as the admin routes show it; `secret` only in the answer that created it."""

    endpoint_id: UUID
    url: str
    events: list[str]
    description: str
    enabled: bool
    created_at: datetime
    secret: str | None = None


@dataclass(frozen=True)
class AttemptRecord:
    at: datetime
    status_code: int | None
    error: str | None
    duration_ms: int


@dataclass(frozen=True)
class MessageRecord:
    message_id: UUID
    type: str
    generation_id: UUID
    status: str
    created_at: datetime
    next_attempt_at: datetime | None
    attempts: list[AttemptRecord]


@dataclass(frozen=True)
class EndpointPage:
    items: list[EndpointRecord]
    next_before: int | None


@dataclass(frozen=True)
class MessagePage:
    items: list[MessageRecord]
    next_before: int | None


@dataclass(frozen=True)
class DueMessage:
    message_id: UUID
    endpoint_id: UUID


class WebhookReads(Protocol):
    """Each query answers once the view has caught up (bounded wait)."""

    def endpoints(self, limit: int, before: int | None) -> EndpointPage:
        """Endpoints not deleted, newest first."""
        ...

    def messages(
        self, endpoint_id: UUID, status: str | None, limit: int, before: int | None
    ) -> MessagePage:
        """An endpoint's messages, newest first."""
        ...

    def counts(self) -> dict[str, int]:
        """Messages by status: pending, succeeded, failed."""
        ...

    def due(self, now: datetime, limit: int) -> list[DueMessage]:
        """Pending messages whose next attempt is at or before `now`, soonest first (no wait)."""
        ...
