"""The replay: each event of the log routed to its check, in order, then the end-of-log checks."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from operator import attrgetter
from typing import Any, Protocol

from application.audit import violations as rule
from application.audit.checks.accounts import AccountEvents
from application.audit.checks.generations import TRANSITIONS, GenerationEvents
from application.audit.checks.queue import QueueEvents
from application.audit.checks.webhooks import WebhookEvents
from application.audit.reading import EventDecoder, LoggedEvent
from application.audit.registry import is_checked
from application.audit.report import AuditReport, Comparison
from application.audit.state import END_OF_CODE, STATUSES, Life
from domain.accounts import TokenAccount
from domain.generations import Generation
from domain.queue import GenerationQueue
from domain.webhook_endpoints import WebhookEndpoint
from domain.webhook_messages import DEFAULT_RETRY_SCHEDULE, WebhookMessage
from domain.webhook_types import TYPE_OF_EVENT

Handler = Callable[[LoggedEvent, type[Any]], None]


class Follower(Protocol):
    """What follows the replay: the events of `event_classes` it accepted, until not `following`."""

    event_classes: frozenset[type[Any]]
    following: bool
    comparison: Comparison | None

    def observe(self, position: int, key: int, cls: type[Any], data: dict[str, Any]) -> None: ...


class Replay(AccountEvents, GenerationEvents, QueueEvents, WebhookEvents):
    def __init__(
        self,
        decoder: EventDecoder,
        hourly_limit: int | None,
        queue_capacity: int,
        observers: Sequence[Follower] = (),
        retry_schedule: tuple[int, ...] = DEFAULT_RETRY_SCHEDULE,
        audited_at: int = 0,
    ) -> None:
        super().__init__(decoder, hourly_limit, queue_capacity)
        self.webhooks_start(retry_schedule, audited_at)
        self.observers = list(observers)
        self.by_topic: Counter[str] = Counter()
        self.first_position = 0
        self.last_position = 0
        self.handlers: dict[type[Any], Handler] = {
            TokenAccount.AccountOpened: self.opened,
            TokenAccount.TokensGranted: self.granted,
            TokenAccount.TokensReserved: self.reserved,
            TokenAccount.TokensCaptured: self.captured,
            TokenAccount.TokensReleased: self.released,
            TokenAccount.AccountDisabled: self.disabled,
            TokenAccount.AccountEnabled: self.disabled,
            Generation.GenerationRequested: self.requested,
            Generation.ImageLinked: self.image_linked,
            GenerationQueue.QueueOpened: self.queue_opened,
            GenerationQueue.GenerationQueued: self.queued_generation,
            GenerationQueue.GenerationRequeued: self.queued_generation,
            GenerationQueue.GenerationLeftQueue: self.left_queue,
            **dict.fromkeys(TRANSITIONS, self.transition),
            WebhookEndpoint.EndpointCreated: self.endpoint_created,
            WebhookEndpoint.EndpointDeleted: self.endpoint_deleted,
            WebhookMessage.MessageCreated: self.message_created,
            WebhookMessage.AttemptRecorded: self.attempt_recorded,
            WebhookMessage.RetryRequested: self.retry_requested,
            WebhookMessage.MessageAbandoned: self.message_abandoned,
        }
        for cls in TYPE_OF_EVENT:  # each also owes the subscribed endpoints a message
            self.handlers[cls] = self._and_awaiting(self.handlers[cls])
        self._routes: dict[str, tuple[Handler, type[Any]]] = {}

    def apply_all(self, notifications: Iterable[LoggedEvent]) -> None:
        routes = self._routes
        batch = notifications if isinstance(notifications, Sequence) else list(notifications)
        self.by_topic.update(map(attrgetter("topic"), batch))  # counted in C, not per event
        for notification in batch:
            topic = notification.topic
            try:
                handler, cls = routes[topic]
            except KeyError:
                handler, cls = routes.setdefault(topic, self._route(topic))
            try:
                handler(notification, cls)
            except (ValueError, KeyError, TypeError, AttributeError) as error:
                name = self.names.get(cls, topic)
                self.flag(rule.UNREADABLE_EVENT, notification, f"{name} cannot be read: {error}")

    def note_positions(self, first: int, last: int) -> None:
        if not self.first_position:
            self.first_position = first
        self.last_position = last

    def finish(self) -> AuditReport:
        """The end-of-log checks, the observers' comparisons, and the report."""
        statuses: Counter[str] = Counter()
        for key, life in self.generations.items():
            if isinstance(life, Life):
                self.unsettled_at_end(key, life)
                if life.status is not None:
                    statuses[life.status] += 1
            else:
                statuses[END_OF_CODE[life & 15]] += 1
        self.queue_at_end()
        self.webhooks_at_end()
        self.tokens.reserved = sum(ledger.reserved for ledger in self.accounts.values())
        by_type: Counter[str] = Counter()
        for topic, count in self.by_topic.items():
            by_type[topic.rpartition(".")[2]] += count
        return AuditReport(
            events=sum(self.by_topic.values()),
            first_position=self.first_position,
            last_position=self.last_position,
            accounts=len(self.accounts),
            generations=sum(statuses.values()),
            generation_statuses={status: statuses[status] for status in STATUSES},
            tokens=self.tokens,
            events_by_type=dict(sorted(by_type.items())),
            violations=self.found,
            hourly_limit=self.hourly_limit,
            queue_capacity=self.queue_capacity,
            projections=[o.comparison for o in self.observers if o.comparison is not None],
        )

    def _route(self, topic: str) -> tuple[Handler, type[Any]]:
        """The handler of a topic seen for the first time (and the observers that follow it)."""
        cls = self.decoder.event_class(topic)
        if cls is None:
            return self._unresolvable, object
        if not isinstance(cls, type) or not is_checked(cls):
            return self._outside, cls  # another aggregate's: outside the audit (registry.py)
        self.names.setdefault(cls, cls.__qualname__.rpartition(".")[2])
        handler = self.handlers.get(cls)
        if handler is None:
            return self._unknown, cls
        followers = [o for o in self.observers if cls in o.event_classes]
        if not followers:
            return handler, cls
        checked = handler

        def checked_and_observed(notification: LoggedEvent, cls: type[Any]) -> None:
            self.rejected = False
            checked(notification, cls)
            if self.rejected:
                return  # observers follow the history as the replay accepts it
            data = self.data(notification, cls)
            key = notification.key
            for observer in followers:
                if observer.following:
                    observer.observe(notification.id, key, cls, data)

        return checked_and_observed, cls

    def _and_awaiting(self, check: Handler) -> Handler:
        def checked_and_awaited(notification: LoggedEvent, cls: type[Any]) -> None:
            check(notification, cls)
            if self.subscribed:
                self.awaiting_messages(notification, cls)

        return checked_and_awaited

    def _outside(self, notification: LoggedEvent, cls: type[Any]) -> None:
        pass

    def _unresolvable(self, notification: LoggedEvent, cls: type[Any]) -> None:
        why = f"no event class answers {notification.topic}"
        self.flag(rule.UNREADABLE_EVENT, notification, why)

    def _unknown(self, notification: LoggedEvent, cls: type[Any]) -> None:
        self.flag(rule.UNKNOWN_EVENT, notification, f"the audit does not know {self.names[cls]}")
