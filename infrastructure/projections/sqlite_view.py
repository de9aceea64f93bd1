"""A projection's view in the application's SQLite file."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from eventsourcing.sqlite import SQLiteDatastore, SQLiteTrackingRecorder

from infrastructure.projections.sql import SQLITE
from infrastructure.projections.table_projection import TableProjection
from infrastructure.projections.view import Cursor, ProjectionView, tracking_key
from infrastructure.projections.writes import Run

SQLITE_TRACKING_TABLE = "tracking"  # fixed by the library: one per file


class SQLiteProjectionView(SQLiteTrackingRecorder, ProjectionView):
    """The library's SQLite tracking recorder, with the projection's tables in its schema."""

    def __init__(
        self, datastore: SQLiteDatastore, projection: TableProjection, application_name: str
    ) -> None:
        key = tracking_key(application_name, projection.name)
        self._setup(projection, SQLITE, key, SQLITE_TRACKING_TABLE)
        super().__init__(datastore)  # builds the create statements, so after _setup

    def construct_create_table_statements(self) -> list[str]:
        return [*super().construct_create_table_statements(), *self.create_statements()]

    @contextmanager
    def _write_transaction(self) -> Iterator[Cursor]:
        with self.datastore.transaction(commit=True) as cursor:
            yield cursor

    @contextmanager
    def _read_cursor(self) -> Iterator[Cursor]:
        with self.datastore.transaction(commit=False) as cursor:
            yield cursor

    def _execute_runs(self, cursor: Cursor, runs: Iterator[Run]) -> None:
        for run in runs:
            cursor.executemany(self.sql(run.template), run.rows)
