"""Reading a read model at one point in time: its position and its rows in one transaction.

A runner may commit to the view while the audit reads it. Inside one read transaction (a
deferred transaction on SQLite's write-ahead log, REPEATABLE READ on PostgreSQL) every query
sees the same committed state, so the rows read belong to exactly the position read.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from eventsourcing.postgres import PostgresDatastore

from infrastructure.projections.view import Cursor, ProjectionView

PAGE_SIZE = 5_000


class ViewReader:
    """Queries on one view, all within one transaction."""

    def __init__(self, view: ProjectionView, cursor: Cursor) -> None:
        self.view = view
        self.cursor = cursor

    def rows(self, template: str, *params: Any) -> list[dict[str, Any]]:
        self.cursor.execute(self.view.sql(template), params)
        return [dict(row) for row in self.cursor.fetchall()]

    def position(self) -> int:
        """The view's tracking position as of this transaction (0: nothing applied yet)."""
        found = self.rows(
            "SELECT notification_id FROM {tracking} WHERE application_name = ?",
            self.view.tracking_key,
        )
        return int(found[0]["notification_id"]) if found else 0

    def pages(
        self, table: str, columns: Sequence[str], key: Sequence[str]
    ) -> Iterator[list[dict[str, Any]]]:
        """Every row of `table`, in key order, PAGE_SIZE rows at a time (keyset pagination)."""
        selected = ", ".join(columns)
        order = ", ".join(key)
        after: tuple[Any, ...] | None = None
        while True:
            if after is None:
                query = f"SELECT {selected} FROM {{{table}}} ORDER BY {order} LIMIT ?"  # noqa: S608
                page = self.rows(query, PAGE_SIZE)
            else:
                marks = ", ".join("?" * len(key))
                query = (
                    f"SELECT {selected} FROM {{{table}}} "  # noqa: S608 - constants only
                    f"WHERE ({order}) > ({marks}) ORDER BY {order} LIMIT ?"
                )
                page = self.rows(query, *after, PAGE_SIZE)
            if not page:
                return
            yield page
            if len(page) < PAGE_SIZE:
                return
            after = tuple(page[-1][column] for column in key)


@contextmanager
def consistent_read(view: ProjectionView) -> Iterator[ViewReader]:
    """A reader whose every query sees the view as of one moment."""
    datastore: Any = view.datastore  # type: ignore[attr-defined]
    with datastore.transaction(commit=False) as cursor:
        if isinstance(datastore, PostgresDatastore):
            cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY")
        yield ViewReader(view, cursor)
