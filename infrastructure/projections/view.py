"""A projection's view: its tables and a tracking position moved by compare-and-set per batch."""

from __future__ import annotations

from abc import abstractmethod
from collections.abc import Iterable, Iterator
from contextlib import AbstractContextManager
from functools import partial
from typing import Any, Protocol

from infrastructure.projections.follower import Followed, PositionMoved
from infrastructure.projections.sql import Dialect
from infrastructure.projections.table_projection import TableProjection
from infrastructure.projections.writes import Run, Writes

CREATE_HEALTH = (
    "CREATE TABLE IF NOT EXISTS {follower_health} ("
    "name TEXT PRIMARY KEY, error TEXT NOT NULL, position BIGINT, since BIGINT NOT NULL)"
)
TRACKING = "tracking"  # the template name of the view's tracking table
HEALTH = "follower_health"  # the template name of the followers' health table (health.py)

FIRST_POSITION = (
    "INSERT INTO {tracking} (application_name, notification_id) VALUES (?, ?) "
    "ON CONFLICT (application_name) DO NOTHING RETURNING notification_id"
)
NEXT_POSITION = (
    "UPDATE {tracking} SET notification_id = ? "
    "WHERE application_name = ? AND notification_id = ? RETURNING notification_id"
)
FORGET_POSITION = "DELETE FROM {tracking} WHERE application_name = ?"


class Cursor(Protocol):
    """What both stores' cursors offer (the library's SQLite cursor, and psycopg's)."""

    def execute(self, query: Any, params: Any = ..., /) -> Any: ...

    def executemany(self, query: Any, params: Any, /) -> Any: ...

    def fetchone(self) -> Any: ...

    def fetchall(self) -> list[Any]: ...


def tracking_key(application_name: str, projection_name: str) -> str:
    """The tracking row of one projection of one application (`Atelier.pending_queue`)."""
    return f"{application_name}.{projection_name}"


class ProjectionView:
    """Mixed in after a store's tracking recorder, whose methods implement the hooks here."""

    projection: TableProjection
    dialect: Dialect
    tracking_key: str
    tracking_table: str

    def _setup(
        self, projection: TableProjection, dialect: Dialect, key: str, tracking: str
    ) -> None:
        self.projection = projection
        self.dialect = dialect
        self.tracking_key = key
        self.tracking_table = tracking
        self._names = {name: name for name in projection.tables} | {
            TRACKING: tracking,
            HEALTH: HEALTH,
        }
        self._compiled: dict[str, str] = {}

    @property
    def name(self) -> str:
        return self.projection.name

    @property
    def topics(self) -> tuple[str, ...]:
        return self.projection.topics

    def sql(self, template: str) -> str:
        """A statement template compiled for this store (cached: templates are constants)."""
        compiled = self._compiled.get(template)
        if compiled is None:
            compiled = self._compiled[template] = self.dialect.compile(template, self._names)
        return compiled

    def create_statements(self) -> list[str]:
        return [self.sql(statement) for statement in (*self.projection.schema, CREATE_HEALTH)]

    @abstractmethod
    def _write_transaction(self) -> AbstractContextManager[Cursor]: ...

    @abstractmethod
    def _read_cursor(self) -> AbstractContextManager[Cursor]: ...

    @abstractmethod
    def _execute_runs(self, cursor: Cursor, runs: Iterator[Run]) -> None:
        """Run each run in order, in the open transaction."""

    @abstractmethod
    def max_tracking_id(self, application_name: str) -> int | None: ...

    @abstractmethod
    def create_table(self) -> None:
        """Create the tracking table and the view's tables if they do not exist."""

    def position(self) -> int:
        """The log position of the last event this view has applied (0: none yet)."""
        return self.max_tracking_id(self.tracking_key) or 0

    def apply(self, events: Iterable[Followed], expected: int, reached: int) -> None:
        self.commit(self.projection.writes_for(events), expected, reached)

    def commit(self, writes: Writes, expected: int, position: int) -> None:
        """Apply `writes` and move the position from `expected` atomically, or PositionMoved."""
        with self._write_transaction() as cursor:
            self._advance(cursor, expected, position)
            self.projection.prepare(writes, partial(self._lookup, cursor))
            self._execute_runs(cursor, writes.runs())

    def _lookup(self, cursor: Cursor, template: str, *params: Any) -> list[dict[str, Any]]:
        cursor.execute(self.sql(template), params)
        return [dict(row) for row in cursor.fetchall()]

    def _advance(self, cursor: Cursor, expected: int, position: int) -> None:
        # First, so a loser waits on the write lock or the row lock, then writes nothing.
        if expected == 0:
            cursor.execute(self.sql(FIRST_POSITION), (self.tracking_key, position))
        else:
            cursor.execute(self.sql(NEXT_POSITION), (position, self.tracking_key, expected))
        if cursor.fetchone() is None:
            raise PositionMoved(f"{self.tracking_key} is no longer at {expected}")

    def reset(self) -> None:
        """Drop every row and the position in one transaction: the next catch-up rebuilds."""
        with self._write_transaction() as cursor:
            cursor.execute(self.sql(FORGET_POSITION), (self.tracking_key,))
            for table in self.projection.tables:
                cursor.execute(self.sql(f"DELETE FROM {{{table}}}"))  # noqa: S608 - a constant

    def execute(self, template: str, *params: Any) -> None:
        """Run one statement (`{table}` names, `?` placeholders) in its own transaction."""
        with self._write_transaction() as cursor:
            cursor.execute(self.sql(template), params)

    def fetch(self, template: str, *params: Any) -> list[dict[str, Any]]:
        with self._read_cursor() as cursor:
            cursor.execute(self.sql(template), params)
            return [dict(row) for row in cursor.fetchall()]

    def contents(self) -> dict[str, list[tuple[Any, ...]]]:
        """Every row of every table, in a stable order: to compare two builds of a view."""
        contents = {}
        for table in self.projection.tables:
            rows = self.fetch(f"SELECT * FROM {{{table}}}")  # noqa: S608 - a constant
            contents[table] = sorted((tuple(row.values()) for row in rows), key=repr)
        return contents
