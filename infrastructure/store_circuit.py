"""Fail fast while the event store is out of reach, and find it again within seconds.

The library's recorders retry each call ten times and its PostgreSQL pool waits for a connection
and reconnects with a backoff that grows past a minute, so an outage made every request wait
minutes and a recovery took as long (docs/operations.md, "When the store is down"). This wraps
the store's one way to a connection: once opening a connection fails, callers are refused at
once (503) except one probe per backoff step, and the first connection that opens closes the
circuit again. Each change of state is logged once.
"""

from __future__ import annotations

import logging
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from typing import Any

from eventsourcing.persistence import OperationalError
from eventsourcing.postgres import PostgresDatastore
from eventsourcing.sqlite import SQLiteDatastore

from infrastructure.background import backoff_seconds

logger = logging.getLogger("atelier.store")

PROBE_INTERVAL_SECONDS = 0.5  # first wait before a probe once the store failed
PROBE_CAP_SECONDS = 2.0  # so a store that comes back is found within about two seconds
POOL_GIVE_UP_SECONDS = 3.0  # the pool's own reconnect loop gives up soon; demand regrows it
KEEPALIVES = {"keepalives": 1, "keepalives_idle": 5, "keepalives_interval": 2}
UNACKNOWLEDGED_MS = 10_000  # a peer that stops acknowledging is dropped after this long


class StoreCircuit:
    """Open (refusing at once) from a failed connection attempt until one succeeds."""

    def __init__(self, name: str) -> None:
        self.name = name
        self._lock = threading.Lock()
        self.failures = 0
        self._probe_at = 0.0

    @property
    def is_open(self) -> bool:
        return self.failures > 0

    def admit(self) -> bool:
        """True if a caller may try the store now: always while closed, one per step while open."""
        if not self.failures:  # the common case, without the lock
            return True
        with self._lock:
            if not self.failures:
                return True
            now = time.monotonic()
            if now < self._probe_at:
                return False
            self._probe_at = now + backoff_seconds(
                self.failures, PROBE_INTERVAL_SECONDS, PROBE_CAP_SECONDS
            )
            return True

    def failed(self, error: BaseException) -> None:
        with self._lock:
            self.failures += 1
            first = self.failures == 1
            if first:
                self._probe_at = time.monotonic() + PROBE_INTERVAL_SECONDS
        if first:
            logger.warning(
                "%s unreachable, refusing at once until it answers: %s", self.name, error
            )

    def succeeded(self) -> None:
        with self._lock:
            failures, self.failures = self.failures, 0
        if failures:
            logger.warning("%s reachable again after %d failed attempts", self.name, failures)


def guard_postgres(datastore: PostgresDatastore, connect_timeout: float) -> StoreCircuit:
    """Short, bounded waits on every connection, and the circuit around them."""
    circuit = StoreCircuit("PostgreSQL event store")
    pool: Any = datastore.pool
    pool.timeout = connect_timeout  # the longest a caller waits for a connection
    pool.reconnect_timeout = POOL_GIVE_UP_SECONDS
    pool.kwargs.update(
        connect_timeout=max(1, round(connect_timeout)),
        tcp_user_timeout=UNACKNOWLEDGED_MS,
        **KEEPALIVES,
    )
    connect: Callable[..., Any] = pool._connect

    def observed_connect(timeout: float | None = None) -> Any:
        try:
            connection = connect(timeout)
        except Exception as error:
            circuit.failed(error)
            raise
        circuit.succeeded()
        return connection

    pool._connect = observed_connect
    get_connection = datastore.get_connection

    @contextmanager
    def guarded() -> Iterator[Any]:
        if not circuit.admit():
            raise OperationalError("the event store is unreachable")
        with get_connection() as connection:
            yield connection

    datastore.get_connection = guarded  # type: ignore[method-assign]
    return circuit


def guard_sqlite(datastore: SQLiteDatastore) -> StoreCircuit:
    """A connection that found the file read-only stays read-only: drop it so the next one
    opens the file again, and keep the circuit open until a write succeeds."""
    circuit = StoreCircuit("SQLite event store")
    get_connection: Callable[..., AbstractContextManager[Any]] = datastore.get_connection

    @contextmanager
    def reopened(*, commit: bool) -> Iterator[Any]:
        with get_connection(commit=commit) as connection:
            try:
                yield connection
            except (OperationalError, sqlite3.OperationalError) as error:
                if "readonly" in str(error) or "disk" in str(error):
                    connection.close()
                    circuit.failed(error)
                raise
            if commit:
                circuit.succeeded()

    datastore.get_connection = reopened  # type: ignore[method-assign]
    return circuit


def sqlite_writable(datastore: SQLiteDatastore) -> None:
    """A write that is rolled back: fails (OperationalError) while the file cannot be written.
    It does not wait for the write lock: a writer holding it shows the file takes writes."""
    with datastore.transaction(commit=False) as cursor:
        cursor.execute("PRAGMA busy_timeout")
        waits_ms = int(cursor.fetchone()[0])
        cursor.execute("PRAGMA busy_timeout = 0")
        try:
            cursor.execute("PRAGMA user_version")
            version = int(cursor.fetchone()[0])
            cursor.execute(f"PRAGMA user_version = {version}")
        except (OperationalError, sqlite3.OperationalError) as error:
            if "locked" not in str(error):
                raise
        finally:
            cursor.execute(f"PRAGMA busy_timeout = {waits_ms}")
