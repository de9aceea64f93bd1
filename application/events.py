"""Atelier's event classes by name, for code that dispatches on them (the audit, the history).

The `@event` decorator makes these classes when the aggregate classes are defined, so a type
checker cannot see them as attributes; naming them once here keeps every `getattr` in one place
and fails at import if an event is ever renamed without its dispatchers.
"""

from __future__ import annotations

from typing import Any

from eventsourcing.domain import Aggregate

from domain.accounts import TokenAccount
from domain.generations import Generation
from domain.queue import GenerationQueue


def event_class(aggregate: type[Aggregate], name: str) -> type[Any]:
    """The event class `name` of `aggregate` (AttributeError if there is none)."""
    cls: type[Any] = getattr(aggregate, name)
    return cls


ACCOUNT_OPENED = event_class(TokenAccount, "AccountOpened")
TOKENS_GRANTED = event_class(TokenAccount, "TokensGranted")
TOKENS_RESERVED = event_class(TokenAccount, "TokensReserved")
TOKENS_CAPTURED = event_class(TokenAccount, "TokensCaptured")
TOKENS_RELEASED = event_class(TokenAccount, "TokensReleased")
ACCOUNT_DISABLED = event_class(TokenAccount, "AccountDisabled")
ACCOUNT_ENABLED = event_class(TokenAccount, "AccountEnabled")

GENERATION_REQUESTED = event_class(Generation, "GenerationRequested")
IMAGE_LINKED = event_class(Generation, "ImageLinked")
GENERATION_STARTED = event_class(Generation, "GenerationStarted")
GENERATION_COMPLETED = event_class(Generation, "GenerationCompleted")
GENERATION_FAILED = event_class(Generation, "GenerationFailed")
GENERATION_CANCELLED = event_class(Generation, "GenerationCancelled")
GENERATION_EXPIRED = event_class(Generation, "GenerationExpired")

QUEUE_OPENED = event_class(GenerationQueue, "QueueOpened")
GENERATION_QUEUED = event_class(GenerationQueue, "GenerationQueued")
GENERATION_LEFT_QUEUE = event_class(GenerationQueue, "GenerationLeftQueue")
