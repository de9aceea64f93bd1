"""The replay: routes each event of the log to its check, in order, then the end-of-log checks.

An event type the audit does not know is a violation, not something to skip: the audit can only
vouch for a history it fully understands, so a new event type must be taught to it (and to
docs/events.md) before the history that holds it audits clean.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from operator import attrgetter
from typing import TYPE_CHECKING, Any

from application import events
from application.audit import violations as rule
from application.audit.accounts import AccountEvents
from application.audit.generations import TRANSITIONS, GenerationEvents
from application.audit.queue import QueueEvents
from application.audit.reading import EventDecoder, LoggedEvent
from application.audit.report import AuditReport, Comparison
from application.audit.state import END_OF_CODE, STATUSES, Life

if TYPE_CHECKING:
    from application.audit.use_cases import AuditSession

Handler = Callable[[LoggedEvent, type[Any]], None]


class ReplayObserver:
    """Follows the replay to compute something more from it (a read model's expected content).

    `event_classes` are the events it wants; `observe` gets each with its position, its
    aggregate's id as an integer and its data, in log order, until `following` turns False,
    and only events the replay accepted (an illegal transition is reported by the replay and
    is not part of the history observers follow).
    `compare` runs once the log has been read: it may replay further (`session.replay_to`) to
    meet what it compares at the same position, and adds a violation to `session.replay.found`
    for every difference.
    """

    name = "observer"
    event_classes: frozenset[type[Any]] = frozenset()
    following = True
    comparison: Comparison | None = None  # what `compare` found, for the report

    def observe(self, position: int, key: int, cls: type[Any], data: dict[str, Any]) -> None:
        """One followed event."""

    def compare(self, session: AuditSession) -> None:
        """Compare, once the log has been replayed."""


class Replay(AccountEvents, GenerationEvents, QueueEvents):
    """Consumes the log's notifications in order and keeps what the checks need."""

    def __init__(
        self,
        decoder: EventDecoder,
        hourly_limit: int | None,
        queue_capacity: int,
        observers: Sequence[ReplayObserver] = (),
    ) -> None:
        super().__init__(decoder, hourly_limit, queue_capacity)
        self.observers = list(observers)
        self.by_topic: Counter[str] = Counter()
        self.first_position = 0
        self.last_position = 0
        self.handlers: dict[type[Any], Handler] = {
            events.ACCOUNT_OPENED: self.opened,
            events.TOKENS_GRANTED: self.granted,
            events.TOKENS_RESERVED: self.reserved,
            events.TOKENS_CAPTURED: self.captured,
            events.TOKENS_RELEASED: self.released,
            events.ACCOUNT_DISABLED: self.disabled,
            events.ACCOUNT_ENABLED: self.enabled,
            events.GENERATION_REQUESTED: self.requested,
            events.IMAGE_LINKED: self.image_linked,
            events.QUEUE_OPENED: self.queue_opened,
            events.GENERATION_QUEUED: self.queued_generation,
            events.GENERATION_LEFT_QUEUE: self.left_queue,
        }
        for cls in TRANSITIONS:
            self.handlers[cls] = self.transition
        self._routes: dict[str, tuple[Handler, type[Any]]] = {}

    # ---- driving -----------------------------------------------------------------------

    def apply_all(self, notifications: Iterable[LoggedEvent]) -> None:
        """Check a run of notifications, oldest first."""
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
        """The range of positions read so far (for the report)."""
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

    # ---- routing -----------------------------------------------------------------------

    def _route(self, topic: str) -> tuple[Handler, type[Any]]:
        """The handler of a topic seen for the first time (and the observers that follow it)."""
        cls = self.decoder.event_class(topic)
        if cls is None:
            return self._unresolvable, object
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

    def _unresolvable(self, notification: LoggedEvent, cls: type[Any]) -> None:
        self.flag(
            rule.UNREADABLE_EVENT, notification, f"no event class answers {notification.topic}"
        )

    def _unknown(self, notification: LoggedEvent, cls: type[Any]) -> None:
        self.flag(rule.UNKNOWN_EVENT, notification, f"the audit does not know {self.names[cls]}")
