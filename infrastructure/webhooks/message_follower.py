"""Creates the webhook messages the log calls for: follows it with tracking, as the views do."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from uuid import UUID

from eventsourcing.utils import get_topic

from application.webhooks import Subscription, Webhooks
from domain.generations import Generation
from domain.webhook_endpoints import WebhookEndpoint
from domain.webhook_messages import WebhookMessage
from domain.webhook_types import TYPE_OF_EVENT
from infrastructure.projections.follower import Followed, PositionMoved
from infrastructure.projections.table_projection import Handler, TableProjection
from infrastructure.projections.view import ProjectionView
from infrastructure.projections.writes import Writes

SUBSCRIPTIONS = "webhook_subscriptions"
# One statement, so one snapshot: the live endpoints and the position they were written at.
SUBSCRIPTIONS_AND_POSITION = (
    "SELECT t.notification_id AS position, s.endpoint_id, s.events FROM {tracking} t "
    "LEFT JOIN {webhook_subscriptions} s ON NOT s.deleted WHERE t.application_name = ?"
)
# Every event of a generation, so most are shown from the batch itself (Webhooks.messages_for).
GENERATION_EVENTS: list[type] = [
    *TYPE_OF_EVENT,
    Generation.ImageLinked,
    Generation.LeaseExtended,
    Generation.GenerationRequeued,
]


class SubscriptionsTable(TableProjection):
    """The endpoints as message creation has seen them, moved with its tracking position."""

    name = SUBSCRIPTIONS
    tables = {SUBSCRIPTIONS: ("endpoint_id",)}
    schema = (
        "CREATE TABLE IF NOT EXISTS {webhook_subscriptions} ("
        "endpoint_id TEXT PRIMARY KEY, events TEXT NOT NULL, deleted BOOLEAN NOT NULL)",
    )

    def event_handlers(self) -> Iterable[tuple[str, Handler]]:
        return ()  # the follower writes it (MessageCreation.apply)


class MessageCreation:
    """One message per (endpoint, generation event) after the endpoint's creation and before
    its deletion: the ids are derived from both, so a repeat (two processes, a crash between
    saving and moving the position) is refused by the store and skipped."""

    name = SUBSCRIPTIONS

    def __init__(
        self,
        webhooks: Webhooks,
        store_on: Callable[[TableProjection], ProjectionView],
        created: Callable[[list[WebhookMessage]], None] = lambda messages: None,
    ) -> None:
        self.webhooks = webhooks
        self.store = store_on(SubscriptionsTable())
        self.created = created
        followed: list[type] = [WebhookEndpoint.EndpointCreated, WebhookEndpoint.EndpointDeleted]
        self.topics = tuple(get_topic(c) for c in [*followed, *GENERATION_EVENTS])

    def create_table(self) -> None:
        self.store.create_table()

    def position(self) -> int:
        return self.store.position()

    def subscriptions(self, expected: int) -> dict[UUID, Subscription]:
        """The endpoints as of position `expected`, or PositionMoved: read at a later position,
        they would give a generation event an endpoint created after it."""
        rows = self.store.fetch(SUBSCRIPTIONS_AND_POSITION, self.store.tracking_key)
        position = int(rows[0]["position"]) if rows else 0
        if position != expected:
            raise PositionMoved(f"{self.store.tracking_key} is no longer at {expected}")
        return {
            UUID(row["endpoint_id"]): Subscription(
                UUID(row["endpoint_id"]), frozenset(json.loads(row["events"]))
            )
            for row in rows
            if row["endpoint_id"] is not None
        }

    def apply(self, events: Iterable[Followed], expected: int, reached: int) -> None:
        subscriptions = self.subscriptions(expected)
        writes = Writes(SubscriptionsTable.tables)
        wanted: list[tuple[Generation.Event, list[Subscription]]] = []
        history: dict[UUID, list[Generation.Event]] = {}
        for _topic, event, _position in events:
            if isinstance(event, WebhookEndpoint.EndpointCreated):
                endpoint_id = event.originator_id
                subscriptions[endpoint_id] = Subscription(endpoint_id, frozenset(event.events))
                row = {
                    "endpoint_id": str(endpoint_id),
                    "events": json.dumps(event.events),
                    "deleted": False,
                }
                writes.insert(SUBSCRIPTIONS, row)
            elif isinstance(event, WebhookEndpoint.EndpointDeleted):
                subscriptions.pop(event.originator_id, None)
                writes.update(SUBSCRIPTIONS, (str(event.originator_id),), {"deleted": True})
            elif subscriptions:
                history.setdefault(event.originator_id, []).append(event)
                webhook_type = TYPE_OF_EVENT.get(type(event))
                wanting = [s for s in subscriptions.values() if webhook_type in s.events]
                if wanting:
                    wanted.append((event, wanting))
        created = self.webhooks.save_messages(self.webhooks.messages_for(wanted, history))
        self.store.commit(writes, expected, reached)
        if created:
            self.created(created)
