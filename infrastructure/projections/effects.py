"""Tracked effects: an event's messages stored once beside the position, then delivered."""

from __future__ import annotations

import json
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any, ClassVar

from infrastructure.projections.follower import Followed
from infrastructure.projections.table_projection import Handler, TableProjection
from infrastructure.projections.view import ProjectionView
from infrastructure.projections.writes import Writes

Message = dict[str, Any]  # anything json.dumps takes
# An effect's handler: the decoded event and its log position, to the messages it calls for.
EffectHandler = Callable[[Any, int], Iterable[Message]]


@dataclass(frozen=True)
class Outgoing:
    """A stored message; `position` and `index` let a receiver spot one delivered twice."""

    position: int
    index: int
    message: Message


class Outbox(TableProjection):
    """Where one effect keeps its messages until they are delivered, beside its position."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.table = f"{name}_outbox"
        self.tables = {self.table: ("position", "n")}
        self.schema = (
            f"CREATE TABLE IF NOT EXISTS {{{self.table}}} ("
            "position BIGINT NOT NULL, n INTEGER NOT NULL, message TEXT NOT NULL, "
            "PRIMARY KEY (position, n))",
        )
        super().__init__()

    def event_handlers(self) -> Iterable[tuple[str, Handler]]:
        return ()  # the effect decides what to store (TrackedEffect.apply)


class TrackedEffect(ABC):
    """A follower whose handlers (registered with `on`) return the messages each event calls for."""

    name: ClassVar[str]

    def __init__(self, store_on: Callable[[TableProjection], ProjectionView]) -> None:
        """`store_on` places the outbox beside the events (read_models.view_on)."""
        self.handlers = dict(self.event_handlers())
        self.topics = tuple(self.handlers)
        self.outbox = Outbox(self.name)
        self.store = store_on(self.outbox)

    @abstractmethod
    def event_handlers(self) -> Iterable[tuple[str, EffectHandler]]:
        """Each followed event's topic and the method that says what to send (see `on`)."""

    def create_table(self) -> None:
        self.store.create_table()

    def position(self) -> int:
        return self.store.position()

    def apply(self, events: Iterable[Followed], expected: int, reached: int) -> None:
        writes = Writes(self.outbox.tables)
        for topic, event, position in events:
            for index, message in enumerate(self.handlers[topic](event, position)):
                row = {"position": position, "n": index, "message": json.dumps(message)}
                writes.insert(self.outbox.table, row)
        self.store.commit(writes, expected, reached)

    def pending(self, limit: int = 100) -> list[Outgoing]:
        """The oldest messages not yet delivered, in log order."""
        rows = self.store.fetch(
            f"SELECT position, n, message FROM {{{self.outbox.table}}} "  # noqa: S608 - a constant
            "ORDER BY position, n LIMIT ?",
            limit,
        )
        return [Outgoing(row["position"], row["n"], json.loads(row["message"])) for row in rows]

    def deliver(self, send: Callable[[Outgoing], None], limit: int = 100) -> int:
        """Send up to `limit` in order, each deleted once `send` returns; a raise stops there."""
        sent = 0
        for outgoing in self.pending(limit):
            send(outgoing)
            self.store.execute(
                f"DELETE FROM {{{self.outbox.table}}} WHERE position = ? AND n = ?",  # noqa: S608
                outgoing.position,
                outgoing.index,
            )
            sent += 1
        return sent
