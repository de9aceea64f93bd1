"""A read model's position and rows read in one transaction, as plain tuples."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
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

    def pages(
        self, table: str, columns: Sequence[str], key: Sequence[str]
    ) -> Iterator[list[tuple[Any, ...]]]:
        """Every row of `table` as tuples of `columns` (which hold `key`), PAGE_SIZE at a time,
        in no particular order: SQLite streams one query, PostgreSQL pages in key order."""
        selected = ", ".join(columns)
        if self.streams:
            self.cursor.execute(self.view.sql(f"SELECT {selected} FROM {{{table}}}"))  # noqa: S608
            while page := self.cursor.fetchmany(PAGE_SIZE):
                yield page
            return
        order = ", ".join(key)
        at = [columns.index(column) for column in key]
        after: tuple[Any, ...] | None = None
        while True:
            if after is None:
                query = f"SELECT {selected} FROM {{{table}}} ORDER BY {order} LIMIT ?"  # noqa: S608
                page = self.values(query, PAGE_SIZE)
            else:
                marks = ", ".join("?" * len(key))
                query = (
                    f"SELECT {selected} FROM {{{table}}} "  # noqa: S608 - constants only
                    f"WHERE ({order}) > ({marks}) ORDER BY {order} LIMIT ?"
                )
                page = self.values(query, *after, PAGE_SIZE)
            if not page:
                return
            yield page
            if len(page) < PAGE_SIZE:
                return
            after = tuple(page[-1][index] for index in at)


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
