"""The table-creation lock: processes (and threads) of one store create tables in turn."""

from __future__ import annotations

import fcntl
from collections.abc import Iterator
from contextlib import contextmanager

import psycopg

from infrastructure.locks import session
from infrastructure.settings import Settings


class TablesBusy(RuntimeError):
    """Waited too long for another process creating the tables."""


@contextmanager
def table_creation_lock(settings: Settings) -> Iterator[None]:
    """An advisory lock (waited for LOCK_TIMEOUT_SECONDS at most) or a `flock` beside SQLite."""
    if settings.persistence_module == "eventsourcing.postgres":
        lock_session = session.LockSession(settings)
        try:
            key = session.advisory_key(settings.postgres_schema, "tables")
            try:
                lock_session.execute("SELECT pg_advisory_lock(%s)", key)
            except psycopg.errors.LockNotAvailable as error:
                raise TablesBusy(
                    f"another process has been creating the tables of schema "
                    f"{settings.postgres_schema!r} for {session.LOCK_TIMEOUT_SECONDS} s; start "
                    "this one again once it is up (processes started after the tables exist may "
                    "set ATELIER_CREATE_TABLES=n)"
                ) from error
            yield
        finally:
            lock_session.drop()
    elif settings.persistence_module == "eventsourcing.sqlite":
        settings.data_dir.mkdir(parents=True, exist_ok=True)
        with (settings.data_dir / "atelier.tables.lock").open("a+b") as file:
            fcntl.flock(file.fileno(), fcntl.LOCK_EX)
            yield
    else:
        yield
