"""Webhook use cases: endpoints (create, show, delete), messages (create, send, retry)."""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
from collections.abc import Callable, Iterable
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
    """One attempt to make: where, signed with what, and the exact body."""

    message_id: UUID
    endpoint_id: UUID
    url: str
    secret: str
    body: str


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
    """The webhook use cases over one Atelier's store (docs/webhooks.md)."""

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
        self, event: Generation.Event, subscriptions: Iterable[Subscription]
    ) -> list[WebhookMessage]:
        """The messages a generation event calls for: one per subscribed endpoint."""
        webhook_type = TYPE_OF_EVENT.get(type(event))
        wanting = [s for s in subscriptions if webhook_type in s.events]
        if webhook_type is None or not wanting:
            return []
        generation_id = event.originator_id
        version = event.originator_version
        now = self.atelier.clock()
        generation = self._generation_at(event)
        body = json.dumps(
            self.present(webhook_type, generation.updated_at, generation),
            ensure_ascii=False,
            separators=(",", ":"),
        )
        return [
            WebhookMessage(
                id=message_id(s.endpoint_id, generation_id, version),
                endpoint_id=s.endpoint_id,
                type=webhook_type,
                generation_id=generation_id,
                generation_version=version,
                body=body,
                created_at=now,
            )
            for s in wanting
        ]

    def _generation_at(self, event: Generation.Event) -> GenerationRecord:
        """The generation as GET /api/generations/{id} showed it once `event` was recorded."""
        version = event.originator_version
        queue_position = None
        if isinstance(event, Generation.GenerationRequested):
            # Its images are linked in the same transaction, right after it.
            version += len(event.product_images) + len(event.model_images)
            queue_position = event.queue_position
        generation: Generation = self.atelier.repository.get(event.originator_id, version=version)
        return GenerationRecord.of(generation, queue_position)

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

    def sending(self, message_id_: UUID) -> Sending | None:
        """What to send for a message due now; None if it is not (a deleted endpoint's is
        marked failed, unsent)."""
        message = self.load_message(message_id_)
        now = self.atelier.clock()
        if not message.is_due(now):
            return None
        endpoint = self.load_endpoint(message.endpoint_id, deleted_too=True)
        if endpoint.is_deleted:
            message.abandon(ENDPOINT_DELETED, now)
            self.atelier.save(message)
            return None
        return Sending(message.id, endpoint.id, endpoint.url, endpoint.secret, message.body)

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
