"""A read model's position and rows read in one transaction, as plain tuples."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager, nullcontext
from typing import Any

from eventsourcing.postgres import PostgresDatastore
from psycopg.rows import tuple_row

from infrastructure.projections.view import ProjectionView

PAGE_SIZE = 5_000


class ViewReader:
    def __init__(self, view: ProjectionView, cursor: Any, streams: bool) -> None:
        self.view = view
        self.cursor = cursor
        self.streams = streams  # the cursor yields a large result a page at a time (SQLite)

    def values(self, template: str, *params: Any) -> list[tuple[Any, ...]]:
        self.cursor.execute(self.view.sql(template), params)
        rows: list[tuple[Any, ...]] = self.cursor.fetchall()
        return rows

    def position(self) -> int:
        """The view's tracking position as of this transaction (0: nothing applied yet)."""
        query = "SELECT notification_id FROM {tracking} WHERE application_name = ?"
        found = self.values(query, self.view.tracking_key)
        return int(found[0][0]) if found else 0

    def pages(self, table: str, columns: Sequence[str]) -> Iterator[list[tuple[Any, ...]]]:
        """Every row of `table` as tuples of `columns`, PAGE_SIZE at a time, in no order."""
        query = self.view.sql(f"SELECT {', '.join(columns)} FROM {{{table}}}")  # noqa: S608
        # SQLite's cursor streams a large result; psycopg's would fetch it all: a server cursor.
        if self.streams:
            streaming = nullcontext(self.cursor)
        else:
            streaming = self.cursor.connection.cursor("audit_pages", row_factory=tuple_row)
        with streaming as cursor:
            cursor.execute(query)
            while page := cursor.fetchmany(PAGE_SIZE):
                yield page


@contextmanager
def consistent_read(view: ProjectionView) -> Iterator[ViewReader]:
    """A reader whose every query sees the view as of one moment."""
    datastore: Any = view.datastore  # type: ignore[attr-defined]
    with datastore.transaction(commit=False) as cursor:
        if isinstance(datastore, PostgresDatastore):
            cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY")
            cursor.row_factory = tuple_row
            yield ViewReader(view, cursor, streams=False)
        else:  # the library wraps sqlite3's cursor
            plain = cursor.sqlite_cursor
            plain.row_factory = None
            yield ViewReader(view, plain, streams=True)
