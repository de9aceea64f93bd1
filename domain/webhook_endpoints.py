"""WebhookEndpoint: where an operator asked for generation events to be sent, and which ones."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

from eventsourcing.domain import Aggregate, event

from domain.errors import InvalidTransition
from domain.webhook_types import WEBHOOK_TYPES


class WebhookEndpoint(Aggregate):
    """A receiver's URL, its event filter and signing secret; deleted, it receives nothing more."""

    class EndpointCreated(Aggregate.Created):
        url: str
        events: list[str]
        description: str
        secret: str  # whsec_...: the signing key, shown once to the admin who created it
        fingerprint: str  # what the request meant, for Idempotency-Key replays
        created_at: datetime

    class EndpointDeleted(Aggregate.Event):
        at: datetime

    @event(EndpointCreated)
    def __init__(
        self,
        id: UUID,  # the library passes the chosen aggregate id by this name
        url: str,
        events: list[str],
        description: str,
        secret: str,
        fingerprint: str,
        created_at: datetime,
    ) -> None:
        self.url = url
        self.events = events
        self.description = description
        self.secret = secret
        self.fingerprint = fingerprint
        self.created_at = created_at
        self.deleted_at: datetime | None = None

    @classmethod
    def create(
        cls,
        endpoint_id: UUID,
        url: str,
        events: list[str] | None,
        description: str,
        secret: str,
        fingerprint: str,
        at: datetime,
    ) -> WebhookEndpoint:
        """`events` None subscribes to every type, in the contract's order."""
        chosen: list[str] = list(WEBHOOK_TYPES) if events is None else list(dict.fromkeys(events))
        return cls(
            id=endpoint_id,
            url=url,
            events=chosen,
            description=description,
            secret=secret,
            fingerprint=fingerprint,
            created_at=at,
        )

    @property
    def is_deleted(self) -> bool:
        return self.deleted_at is not None

    def wants(self, webhook_type: str) -> bool:
        return not self.is_deleted and webhook_type in self.events

    def delete(self, at: datetime) -> None:
        if self.is_deleted:
            raise InvalidTransition("This webhook endpoint is already deleted.")
        self._deleted(at=at)

    @event(EndpointDeleted)
    def _deleted(self, at: datetime) -> None:
        self.deleted_at = at
