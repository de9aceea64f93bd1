"""Webhook use cases: endpoints (create, show, delete), messages (create, send, retry)."""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID, uuid4, uuid5

from eventsourcing.application import AggregateNotFoundError
from eventsourcing.persistence import IntegrityError

from application.base import AtelierBase
from application.queries import GenerationRecord
from application.webhook_ports import UrlCheck
from application.webhook_queries import EndpointRecord
from domain.errors import DomainError, FieldProblem, IdempotencyKeyReused, InvalidRequest
from domain.generations import Generation
from domain.identifiers import ATELIER_NAMESPACE
from domain.webhook_endpoints import WebhookEndpoint
from domain.webhook_messages import PENDING, WebhookMessage, message_id
from domain.webhook_types import TYPE_OF_EVENT

SECRET_BYTES = 32
ENDPOINT_CACHE_SECONDS = 1.0
ENDPOINT_DELETED = "endpoint deleted"
# The body of a message: its type, the event's time, and the generation as then shown.
BodyPresenter = Callable[[str, datetime, GenerationRecord], dict[str, Any]]


class WebhookNotFound(DomainError):
    def __init__(self, what: str = "Webhook endpoint") -> None:
        super().__init__(f"{what} not found")


class EndpointGone(DomainError):
    """Its endpoint was deleted: nothing more is sent to it."""

    def __init__(self) -> None:
        super().__init__("The webhook endpoint was deleted; nothing more is sent to it.")


@dataclass(frozen=True)
class Subscription:
    """What message creation needs of an endpoint: its id and the types it wants."""

    endpoint_id: UUID
    events: frozenset[str]


@dataclass(frozen=True)
class Sending:
    """One attempt to make: the message (its body sent as is), where, signed with what."""

    message: WebhookMessage
    endpoint_id: UUID
    url: str
    secret: str


@dataclass(frozen=True)
class Attempt:
    """How one attempt went, to be recorded on its message."""

    sending: Sending
    at: datetime
    status_code: int | None
    error: str | None
    duration_ms: int


def new_secret() -> str:
    return "whsec_" + base64.b64encode(secrets.token_bytes(SECRET_BYTES)).decode()


def endpoint_record(endpoint: WebhookEndpoint, with_secret: bool = False) -> EndpointRecord:
    return EndpointRecord(
        endpoint_id=endpoint.id,
        url=endpoint.url,
        events=list(endpoint.events),
        description=endpoint.description,
        enabled=not endpoint.is_deleted,
        created_at=endpoint.created_at,
        secret=endpoint.secret if with_secret else None,
    )


class Webhooks:
    """The webhook use cases over one Atelier's store (docs/architecture.md, "Webhooks")."""

    def __init__(
        self,
        atelier: AtelierBase,
        urls: UrlCheck,
        present: BodyPresenter,
        schedule: tuple[int, ...],
    ) -> None:
        self.atelier = atelier
        self.urls = urls
        self.present = present
        self.schedule = schedule
        self._endpoints: dict[UUID, tuple[WebhookEndpoint, float]] = {}

    # Endpoints

    def create_endpoint(
        self,
        url: str,
        events: list[str] | None,
        description: str,
        idempotency: tuple[str, str] | None = None,
    ) -> tuple[EndpointRecord, bool]:
        """A new endpoint with its secret; True when `idempotency` (scope, key) replayed one."""
        fingerprint = hashlib.sha256(
            json.dumps([url, events, description], ensure_ascii=False).encode()
        ).hexdigest()
        endpoint_id = uuid4()
        if idempotency is not None:
            scope, key = idempotency
            endpoint_id = uuid5(ATELIER_NAMESPACE, f"/webhooks/idempotency/{scope}/{key}")
            replayed = self._replay(endpoint_id, fingerprint)
            if replayed is not None:
                return replayed, True
        refusal = self.urls.refusal(url)
        if refusal is not None:
            raise InvalidRequest(refusal, [FieldProblem("url", refusal)])
        endpoint = WebhookEndpoint.create(
            endpoint_id, url, events, description, new_secret(), fingerprint, self.atelier.clock()
        )
        try:
            self.atelier.save(endpoint)
        except IntegrityError:
            if idempotency is None:
                raise
            replayed = self._replay(endpoint_id, fingerprint)  # a concurrent duplicate won
            if replayed is None:
                raise
            return replayed, True
        return endpoint_record(endpoint, with_secret=True), False

    def _replay(self, endpoint_id: UUID, fingerprint: str) -> EndpointRecord | None:
        try:
            endpoint: WebhookEndpoint = self.atelier.repository.get(endpoint_id)
        except AggregateNotFoundError:
            return None
        if endpoint.fingerprint != fingerprint:
            raise IdempotencyKeyReused
        return endpoint_record(endpoint, with_secret=True)

    def load_endpoint(self, endpoint_id: UUID, deleted_too: bool = False) -> WebhookEndpoint:
        try:
            endpoint: object = self.atelier.repository.get(endpoint_id)
        except AggregateNotFoundError:
            raise WebhookNotFound from None
        if not isinstance(endpoint, WebhookEndpoint) or (endpoint.is_deleted and not deleted_too):
            raise WebhookNotFound
        return endpoint

    def endpoint(self, endpoint_id: UUID) -> EndpointRecord:
        return endpoint_record(self.load_endpoint(endpoint_id))

    def delete_endpoint(self, endpoint_id: UUID) -> None:
        endpoint = self.load_endpoint(endpoint_id)
        endpoint.delete(self.atelier.clock())
        self.atelier.save(endpoint)

    # Messages

    def messages_for(
        self,
        wanted: list[tuple[Generation.Event, list[Subscription]]],
        history: dict[UUID, list[Generation.Event]],
    ) -> list[WebhookMessage]:
        """The messages for each generation event and the endpoints subscribed to its type
        when it happened. `history` holds every event of those generations that came with
        them (in order), so most are shown without a read of the store."""
        renders: dict[UUID, dict[int, list[tuple[Generation.Event, list[Subscription]]]]] = {}
        for event, subscriptions in wanted:
            by_version = renders.setdefault(event.originator_id, {})
            by_version.setdefault(self._shown_at(event), []).append((event, subscriptions))
        now = self.atelier.clock()
        messages: list[WebhookMessage] = []
        for generation_id, by_version in renders.items():
            events = history.get(generation_id, [])
            if events and events[0].originator_version == 1:
                generation: Any = None
                for event in events:
                    if event.originator_version != (generation.version if generation else 0) + 1:
                        break  # an event this batch was not given: the store has it
                    generation = event.mutate(generation)
                    if generation.version in by_version:
                        items = by_version.pop(generation.version)
                        messages += self._messages(generation, items, now)
            for version, items in by_version.items():  # its start was in an earlier batch
                generation = self.atelier.repository.get(generation_id, version=version)
                messages += self._messages(generation, items, now)
        return messages

    @staticmethod
    def _shown_at(event: Generation.Event) -> int:
        """The version GET /api/generations/{id} showed once `event` was recorded: a new
        generation's images are linked in the same transaction, right after its request."""
        if isinstance(event, Generation.GenerationRequested):
            return 1 + len(event.product_images) + len(event.model_images)
        return event.originator_version

    def _messages(
        self,
        generation: Generation,
        items: list[tuple[Generation.Event, list[Subscription]]],
        now: datetime,
    ) -> list[WebhookMessage]:
        messages = []
        for event, subscriptions in items:
            webhook_type = TYPE_OF_EVENT[type(event)]
            queue_position = (
                event.queue_position if isinstance(event, Generation.GenerationRequested) else None
            )
            record = GenerationRecord.of(generation, queue_position)
            body = json.dumps(
                self.present(webhook_type, record.updated_at, record),
                ensure_ascii=False,
                separators=(",", ":"),
            )
            for subscription in subscriptions:
                if webhook_type not in subscription.events:
                    continue
                messages.append(
                    WebhookMessage(
                        id=message_id(
                            subscription.endpoint_id, event.originator_id, event.originator_version
                        ),
                        endpoint_id=subscription.endpoint_id,
                        type=webhook_type,
                        generation_id=event.originator_id,
                        generation_version=event.originator_version,
                        body=body,
                        created_at=now,
                    )
                )
        return messages

    def save_messages(self, messages: list[WebhookMessage]) -> list[WebhookMessage]:
        """Save each message that does not exist yet; the ones this call created."""
        if not messages:
            return []
        try:
            self.atelier.save(*messages)
        except IntegrityError:  # another process (or an earlier run) made some: one by one
            created = []
            for message in messages:
                try:
                    self.atelier.save(message)
                except IntegrityError:
                    continue
                created.append(message)
            return created
        return list(messages)

    def load_message(self, message_id_: UUID) -> WebhookMessage:
        try:
            message: object = self.atelier.repository.get(message_id_)
        except AggregateNotFoundError:
            raise WebhookNotFound("Message") from None
        if not isinstance(message, WebhookMessage):
            raise WebhookNotFound("Message")
        return message

    def sending(self, message_id_: UUID, message: WebhookMessage | None = None) -> Sending | None:
        """What to send for a message due now (`message` if in hand, else loaded); None if it
        is not due (a deleted endpoint's is marked failed, unsent)."""
        message = message or self.load_message(message_id_)
        now = self.atelier.clock()
        if not message.is_due(now):
            return None
        endpoint = self._endpoint_cached(message.endpoint_id)
        if endpoint.is_deleted:
            message.abandon(ENDPOINT_DELETED, now)
            self.atelier.save(message)
            return None
        return Sending(message, endpoint.id, endpoint.url, endpoint.secret)

    def sending_in_hand(self, message: WebhookMessage) -> Sending | None:
        """`sending` with no read of the store, if none is needed: a due message in hand
        to an endpoint seen lately that was not deleted. None: ask `sending`."""
        endpoint = self._endpoint_seen_lately(message.endpoint_id)
        if endpoint is None or endpoint.is_deleted or not message.is_due(self.atelier.clock()):
            return None
        return Sending(message, endpoint.id, endpoint.url, endpoint.secret)

    def _endpoint_seen_lately(self, endpoint_id: UUID) -> WebhookEndpoint | None:
        cached = self._endpoints.get(endpoint_id)
        if cached is not None and time.monotonic() - cached[1] < ENDPOINT_CACHE_SECONDS:
            return cached[0]
        return None

    def _endpoint_cached(self, endpoint_id: UUID) -> WebhookEndpoint:
        """Endpoints change only by deletion: one read a second per endpoint is enough."""
        cached = self._endpoint_seen_lately(endpoint_id)
        if cached is not None:
            return cached
        now = time.monotonic()
        endpoint = self.load_endpoint(endpoint_id, deleted_too=True)
        self._endpoints[endpoint_id] = (endpoint, now)
        return endpoint

    def record_attempts(self, attempts: list[Attempt]) -> list[WebhookMessage]:
        """Each attempt recorded on its message in hand, all in one transaction; a message
        changed meanwhile (an admin's retry) is reloaded and recorded alone."""
        messages = []
        for attempt in attempts:
            message = attempt.sending.message
            if message.status != PENDING:
                continue
            message.record_attempt(
                attempt.at, attempt.status_code, attempt.error, attempt.duration_ms, self.schedule
            )
            messages.append(message)
        try:
            self.atelier.save(*messages)
        except IntegrityError:
            return [
                self.record_attempt(
                    a.sending.message.id, a.at, a.status_code, a.error, a.duration_ms
                )
                for a in attempts
            ]
        return messages

    def record_attempt(
        self,
        message_id_: UUID,
        at: datetime,
        status_code: int | None,
        error: str | None,
        duration_ms: int,
    ) -> WebhookMessage:
        """Recorded on the message as it is now (an admin's retry may have moved it)."""
        for _ in range(5):
            message = self.load_message(message_id_)
            if message.status != PENDING:
                return message
            message.record_attempt(at, status_code, error, duration_ms, self.schedule)
            try:
                self.atelier.save(message)
            except IntegrityError:
                continue
            return message
        raise IntegrityError(f"message {message_id_} kept changing")

    def retry_message(self, endpoint_id: UUID, message_id_: UUID) -> WebhookMessage:
        endpoint = self.load_endpoint(endpoint_id, deleted_too=True)
        message = self.load_message(message_id_)
        if message.endpoint_id != endpoint.id:
            raise WebhookNotFound("Message")
        if endpoint.is_deleted:
            raise EndpointGone
        message.retry(self.atelier.clock())
        self.atelier.save(message)
        return message
