"""WebhookMessage: one generation event told to one endpoint, and every attempt to send it."""

from __future__ import annotations

from datetime import datetime, timedelta
from enum import StrEnum
from uuid import UUID, uuid5

from eventsourcing.domain import Aggregate, event

from domain.errors import InvalidTransition
from domain.identifiers import ATELIER_NAMESPACE

DEFAULT_RETRY_SCHEDULE = (5, 300, 1800, 7200, 18000, 36000)  # seconds after each failed attempt


class MessageStatus(StrEnum):
    PENDING = "pending"
    SUCCEEDED = "succeeded"
    FAILED = "failed"


PENDING, SUCCEEDED, FAILED = MessageStatus
MESSAGE_STATUSES = tuple(MessageStatus)


def message_id(endpoint_id: UUID, generation_id: UUID, version: int) -> UUID:
    """One message per (endpoint, generation event), whichever process creates it first."""
    return uuid5(ATELIER_NAMESPACE, f"/webhooks/{endpoint_id}/{generation_id}/{version}")


def is_success(status_code: int | None) -> bool:
    return status_code is not None and 200 <= status_code < 300


class WebhookMessage(Aggregate):
    """Pending until an attempt succeeds or the retry schedule runs out (or its endpoint goes)."""

    class MessageCreated(Aggregate.Created):
        endpoint_id: UUID
        type: str
        generation_id: UUID
        generation_version: int  # the generation event it tells of
        body: str  # the exact bytes sent (UTF-8), the same on every attempt
        created_at: datetime

    class AttemptRecorded(Aggregate.Event):
        at: datetime
        status_code: int | None
        error: str | None
        duration_ms: int
        next_attempt_at: datetime | None  # None: no more (succeeded, or failed for good)

    class RetryRequested(Aggregate.Event):
        at: datetime

    class MessageAbandoned(Aggregate.Event):
        reason: str
        at: datetime

    @event(MessageCreated)
    def __init__(
        self,
        id: UUID,  # the library passes the chosen aggregate id by this name
        endpoint_id: UUID,
        type: str,
        generation_id: UUID,
        generation_version: int,
        body: str,
        created_at: datetime,
    ) -> None:
        self.endpoint_id = endpoint_id
        self.type = type
        self.generation_id = generation_id
        self.generation_version = generation_version
        self.body = body
        self.created_at = created_at
        self.status = PENDING
        self.next_attempt_at: datetime | None = created_at
        self.attempts = 0
        self.attempts_in_round = 0  # since creation or the last manual retry

    def is_due(self, now: datetime) -> bool:
        return (
            self.status == PENDING
            and self.next_attempt_at is not None
            and self.next_attempt_at <= now
        )

    def record_attempt(
        self,
        at: datetime,
        status_code: int | None,
        error: str | None,
        duration_ms: int,
        schedule: tuple[int, ...],
    ) -> None:
        """A 2xx succeeds; otherwise the next delay of `schedule`, or failed once it ran out."""
        if self.status != PENDING:
            raise InvalidTransition(f"The message is {self.status}; only a pending one is sent.")
        next_attempt_at = None
        if not is_success(status_code) and self.attempts_in_round < len(schedule):
            next_attempt_at = at + timedelta(seconds=schedule[self.attempts_in_round])
        self._attempted(
            at=at,
            status_code=status_code,
            error=error,
            duration_ms=duration_ms,
            next_attempt_at=next_attempt_at,
        )

    @event(AttemptRecorded)
    def _attempted(
        self,
        at: datetime,
        status_code: int | None,
        error: str | None,
        duration_ms: int,
        next_attempt_at: datetime | None,
    ) -> None:
        self.attempts += 1
        self.attempts_in_round += 1
        self.next_attempt_at = next_attempt_at
        if is_success(status_code):
            self.status = SUCCEEDED
        elif next_attempt_at is None:
            self.status = FAILED

    def retry(self, at: datetime) -> None:
        """An admin's retry, whatever its status: sent again now, with the whole schedule again."""
        self._retry_requested(at=at)

    @event(RetryRequested)
    def _retry_requested(self, at: datetime) -> None:
        self.status = PENDING
        self.next_attempt_at = at
        self.attempts_in_round = 0

    def abandon(self, reason: str, at: datetime) -> None:
        """Its endpoint was deleted: nothing more is sent, and it ends failed."""
        if self.status != PENDING:
            raise InvalidTransition(f"The message is {self.status}; only a pending one ends so.")
        self._abandoned(reason=reason, at=at)

    @event(MessageAbandoned)
    def _abandoned(self, reason: str, at: datetime) -> None:
        self.status = FAILED
        self.next_attempt_at = None
