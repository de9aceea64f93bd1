"""A projection's view in the application's PostgreSQL database and schema."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from typing import Any

import psycopg
from eventsourcing.postgres import PostgresDatastore, PostgresTrackingRecorder
from psycopg.sql import SQL, Composed, Identifier

from infrastructure.projections.sql import postgres
from infrastructure.projections.table_projection import TableProjection
from infrastructure.projections.view import Cursor, ProjectionView, tracking_key
from infrastructure.projections.writes import Params, Run

COPY_AT_LEAST = 20  # rows: below this, COPY's extra round trips cost more than they save


class PostgresProjectionView(PostgresTrackingRecorder, ProjectionView):
    """The library's PostgreSQL tracking recorder, with the projection's tables in its schema."""

    def __init__(
        self, datastore: PostgresDatastore, projection: TableProjection, application_name: str
    ) -> None:
        tracking_table = f"{projection.name}_tracking"
        super().__init__(datastore, tracking_table_name=tracking_table)
        key = tracking_key(application_name, projection.name)
        self._setup(projection, postgres(datastore.schema), key, tracking_table)
        self.sql_create_statements += [Composed([SQL(s)]) for s in self.create_statements()]

    def _write_transaction(self) -> AbstractContextManager[Cursor]:
        return self.datastore.transaction(commit=True)

    @contextmanager
    def _read_cursor(self) -> Iterator[Cursor]:
        # One autocommit statement: no BEGIN/ROLLBACK round trips for a read.
        with self.datastore.get_connection() as connection, connection.cursor() as cursor:
            yield cursor

    def _execute_runs(self, cursor: Cursor, runs: Iterator[Run]) -> None:
        """Many new rows by COPY; every other run in pipeline mode."""
        assert isinstance(cursor, psycopg.Cursor)
        pending: list[Run] = []
        for run in runs:
            if run.table is not None and len(run.rows) >= COPY_AT_LEAST:
                self._pipeline(cursor, pending)
                pending = []
                self._copy(cursor, run.table, run.columns, run.rows)
            else:
                pending.append(run)
        self._pipeline(cursor, pending)

    def _pipeline(self, cursor: psycopg.Cursor[Any], runs: list[Run]) -> None:
        if not runs:
            return
        with cursor.connection.pipeline():
            for run in runs:
                cursor.executemany(self.sql(run.template), run.rows)

    def _copy(
        self, cursor: psycopg.Cursor[Any], table: str, columns: tuple[str, ...], rows: list[Params]
    ) -> None:
        target = SQL("COPY {} ({}) FROM STDIN").format(
            Identifier(self.datastore.schema, table), SQL(", ").join(map(Identifier, columns))
        )
        with cursor.copy(target) as copy:
            for row in rows:
                copy.write_row(row)
