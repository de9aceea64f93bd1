"""A table projection: a read model in SQL tables, the events it follows, the rows each writes."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable, Mapping
from typing import Any, Concatenate, ParamSpec, TypeVar

from eventsourcing.domain import DomainEvent
from eventsourcing.utils import get_topic

from infrastructure.projections.writes import Writes

E = TypeVar("E", bound=DomainEvent)
P = ParamSpec("P")
R = TypeVar("R")
# Handlers take the decoded domain event, its position in the application log, and the batch.
Handler = Callable[[Any, int, Writes], None]
# Runs one read (`{table}` names, `?` placeholders) in the batch's own write transaction.
Lookup = Callable[..., list[dict[str, Any]]]


def on(
    event_class: type[E], handle: Callable[Concatenate[E, P], R]
) -> tuple[str, Callable[Concatenate[Any, P], R]]:
    """The stored topic of `event_class` and its handler, checked to take that class."""
    return get_topic(event_class), handle


class TableProjection(ABC):
    """What a view is, whatever its store; `tables` name the key columns `Writes` folds rows by."""

    name: str
    tables: dict[str, tuple[str, ...]]
    schema: tuple[str, ...]

    def __init__(self) -> None:
        self.handlers: Mapping[str, Handler] = dict(self.event_handlers())
        self.topics: tuple[str, ...] = tuple(self.handlers)

    @abstractmethod
    def event_handlers(self) -> Iterable[tuple[str, Handler]]:
        """Each followed event's topic and the method that turns it into writes (see `on`)."""

    def writes_for(self, events: Iterable[tuple[str, Any, int]]) -> Writes:
        """The writes of a batch of (topic, event, position), in log order."""
        writes = Writes(self.tables)
        handlers = self.handlers
        for topic, event, position in events:
            handlers[topic](event, position, writes)
        self.finish(writes)
        return writes

    def finish(self, writes: Writes) -> None:  # noqa: B027 - an optional hook
        """Called once a batch's events are handled: write what was folded in `writes.folding`."""

    def prepare(self, writes: Writes, lookup: Lookup) -> None:  # noqa: B027 - an optional hook
        """Called in the batch's transaction before its writes run: read what they depend on."""
