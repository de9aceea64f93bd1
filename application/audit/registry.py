"""What the audit answers for: the aggregates whose events it checks, the views it compares."""

from __future__ import annotations

from eventsourcing.domain import Aggregate

from domain.accounts import TokenAccount
from domain.generations import Generation
from domain.queue import GenerationQueue
from domain.webhook_endpoints import WebhookEndpoint
from domain.webhook_messages import WebhookMessage

AGGREGATES: tuple[type[Aggregate], ...] = (
    TokenAccount,
    Generation,
    GenerationQueue,
    WebhookEndpoint,
    WebhookMessage,
)
VIEWS = (
    "pending_queue",
    "rate_limits",
    "user_generations",
    "images",
    "dashboard_totals",
    "activity",
    "webhooks",
)


def is_checked(event_class: type) -> bool:
    return any(issubclass(event_class, aggregate.Event) for aggregate in AGGREGATES)
