"""Locks shared by the processes of one store: the queue mutex, and projection leadership.

The queue mutex serialises the writers of the queue aggregate across processes; the
table-creation lock, the processes creating the tables when they start.

Every submission (and every claim, cancel and expiry) writes the one GenerationQueue. Within a
process the admission desk batches submissions, but two processes each deciding a batch from
the same queue version means one of them loses the version check, throws its batch away and
decides it again; under load the process with the larger batches kept losing (p99 over 3 s
with two workers). Holding this mutex from reading the queue to saving makes the processes take
turns, each with a batch that grew while it waited. It is an optimisation, not the rule: if it
is lost (a dropped connection, a timeout) the version check still refuses a stale write.

PostgreSQL: a session advisory lock on a connection of its own, released by the server if the
process dies. SQLite: an exclusive `flock` on a file beside the database, released by the
kernel if the process dies. Both first take a thread lock, since neither excludes the threads
of one process from each other.
"""

from __future__ import annotations

import fcntl
import hashlib
import logging
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from types import TracebackType
from typing import Any

import psycopg

from infrastructure.settings import Settings

logger = logging.getLogger(__name__)

LOCK_TIMEOUT_SECONDS = 10
# A lock session whose other end vanished (its host died, the network broke) is noticed in
# about 20 s, both by the server, which then ends the session and frees its locks (the queue
# mutex, the projections' lead), and by this process; without it, the operating system's
# default keeps a dead peer's session, and its locks, for over two hours. Each end probes after
# 5 s of silence, every 5 s, 3 times; data unacknowledged for 20 s ends the connection too.
KEEPALIVE = {"idle": 5, "interval": 5, "count": 3}
UNACKNOWLEDGED_MS = 20_000


def advisory_key(schema: str, purpose: str = "queue") -> int:
    """A stable signed 64-bit key per schema and purpose, so separate stores (and separate
    locks of one store) never block each other."""
    digest = hashlib.sha256(f"atelier.{purpose}.{schema}".encode()).digest()
    return int.from_bytes(digest[:8], "big", signed=True)


class LockSession:
    """A connection of its own for session locks, which live exactly as long as it does.

    Opened on first use and again after it is dropped; dropping it (on any error) ends the
    session, and with it every lock it held.
    """

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._connection: psycopg.Connection[Any] | None = None

    @property
    def is_open(self) -> bool:
        return self._connection is not None and not self._connection.closed

    def execute(self, query: str, key: int) -> Any:
        """Run `query` with the lock key; the first column of its row."""
        if not self.is_open:
            settings = self.settings
            self._connection = psycopg.connect(
                host=settings.postgres_host,
                port=settings.postgres_port,
                user=settings.postgres_user,
                password=settings.postgres_password.get_secret_value(),
                dbname=settings.postgres_dbname,
                autocommit=True,
                connect_timeout=settings.postgres_connect_timeout,
                keepalives=1,
                keepalives_idle=KEEPALIVE["idle"],
                keepalives_interval=KEEPALIVE["interval"],
                keepalives_count=KEEPALIVE["count"],
                tcp_user_timeout=UNACKNOWLEDGED_MS,
            )
            self._connection.execute(f"SET lock_timeout = '{LOCK_TIMEOUT_SECONDS}s'")
            for name, value in KEEPALIVE.items():  # the server's end (ignored on a Unix socket)
                self._connection.execute(f"SET tcp_keepalives_{name} = {value}")
            self._connection.execute(f"SET tcp_user_timeout = {UNACKNOWLEDGED_MS}")
        assert self._connection is not None
        row = self._connection.execute(query, (key,)).fetchone()
        return row[0] if row else None

    def unlock(self, key: int) -> None:
        """Release a session lock now; if that fails, drop the session, which releases it too."""
        if not self.is_open:
            return
        try:
            self.execute("SELECT pg_advisory_unlock(%s)", key)
        except psycopg.Error:
            self.drop()

    def drop(self) -> None:
        if self._connection is not None:
            try:
                self._connection.close()
            finally:
                self._connection = None


class PostgresQueueMutex:
    """Threads of this process, then processes sharing the database, one at a time."""

    def __init__(self, settings: Settings) -> None:
        self.key = advisory_key(settings.postgres_schema)
        self._threads = threading.Lock()
        self._session = LockSession(settings)

    def __enter__(self) -> None:
        self._threads.acquire()
        try:
            self._session.execute("SELECT pg_advisory_lock(%s)", self.key)
        except psycopg.Error:
            # Without the lock the writers race and the version check decides: slower, still
            # correct. Reconnect next time.
            logger.warning("queue mutex unavailable; writers will race", exc_info=True)
            self._session.drop()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        try:
            self._session.unlock(self.key)
        finally:
            self._threads.release()


class FileQueueMutex:
    """Threads of this process, then processes sharing the SQLite file, one at a time."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._threads = threading.Lock()
        self._file = path.open("a+b")

    def __enter__(self) -> None:
        self._threads.acquire()
        fcntl.flock(self._file.fileno(), fcntl.LOCK_EX)

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        try:
            fcntl.flock(self._file.fileno(), fcntl.LOCK_UN)
        finally:
            self._threads.release()


def queue_mutex(settings: Settings) -> PostgresQueueMutex | FileQueueMutex | None:
    """The cross-process mutex for the configured store (None in memory: one process)."""
    if settings.persistence_module == "eventsourcing.postgres":
        return PostgresQueueMutex(settings)
    if settings.persistence_module == "eventsourcing.sqlite":
        settings.data_dir.mkdir(parents=True, exist_ok=True)
        return FileQueueMutex(settings.data_dir / "atelier.queue.lock")
    return None


class TablesBusy(RuntimeError):
    """Waited too long for another process creating the tables."""


@contextmanager
def table_creation_lock(settings: Settings) -> Iterator[None]:
    """Processes (and threads) sharing a store create their tables one at a time.

    Each process creates what is missing when it starts (CREATE ... IF NOT EXISTS), but two
    doing it at once can fail: PostgreSQL on its catalogue ("tuple concurrently updated",
    which killed `atelier projections run` started beside another), SQLite with "database is
    locked" at once, without waiting. PostgreSQL: an advisory lock, waited for at most
    LOCK_TIMEOUT_SECONDS. SQLite: an exclusive `flock` on a file beside the database.
    """
    if settings.persistence_module == "eventsourcing.postgres":
        session = LockSession(settings)
        try:
            key = advisory_key(settings.postgres_schema, "tables")
            try:
                session.execute("SELECT pg_advisory_lock(%s)", key)
            except psycopg.errors.LockNotAvailable as error:
                raise TablesBusy(
                    f"another process has been creating the tables of schema "
                    f"{settings.postgres_schema!r} for {LOCK_TIMEOUT_SECONDS} s; start this one "
                    "again once it is up (processes started after the tables exist may set "
                    "ATELIER_CREATE_TABLES=n)"
                ) from error
            yield
        finally:
            session.drop()  # ends the session, and with it the lock
    elif settings.persistence_module == "eventsourcing.sqlite":
        settings.data_dir.mkdir(parents=True, exist_ok=True)
        with (settings.data_dir / "atelier.tables.lock").open("a+b") as file:
            fcntl.flock(file.fileno(), fcntl.LOCK_EX)  # released when the file is closed
            yield
    else:
        yield  # in memory: one process


class PostgresLeadership:
    """Whether this process leads a kind of background work among those sharing the database.

    A session advisory lock taken with `pg_try_advisory_lock`: never waits, held until the
    process lets it go or dies (the server releases it with the session).
    """

    def __init__(self, settings: Settings, purpose: str) -> None:
        self.key = advisory_key(settings.postgres_schema, purpose)
        self._session = LockSession(settings)
        self._leading = False

    def leads(self) -> bool:
        """True while this process holds the lead; tries to take it when it does not."""
        try:
            if not self._session.is_open:
                self._leading = False
            if self._leading:
                self._session.execute("SELECT %s", self.key)  # still connected, still leading
            else:
                self._leading = bool(
                    self._session.execute("SELECT pg_try_advisory_lock(%s)", self.key)
                )
        except psycopg.Error:
            logger.warning("leadership check failed; will try again", exc_info=True)
            self.release()
        return self._leading

    def release(self) -> None:
        """Let the lead go now: unlocked explicitly, since a closed connection's lock is only
        freed once the server has noticed, and a standby asking at once would be refused."""
        if self._leading:
            self._session.unlock(self.key)
        self._leading = False
        self._session.drop()


class FileLeadership:
    """The same with a non-blocking exclusive `flock`, released by the kernel on exit."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._file: Any = None

    def leads(self) -> bool:
        if self._file is not None:
            return True
        candidate = self.path.open("a+b")
        try:
            fcntl.flock(candidate.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            candidate.close()
            return False
        self._file = candidate
        return True

    def release(self) -> None:
        if self._file is not None:
            fcntl.flock(self._file.fileno(), fcntl.LOCK_UN)
            self._file.close()
            self._file = None


def leadership(settings: Settings, purpose: str) -> PostgresLeadership | FileLeadership | None:
    """The leadership lock for `purpose` on the configured store (None in memory)."""
    if settings.persistence_module == "eventsourcing.postgres":
        return PostgresLeadership(settings, purpose)
    if settings.persistence_module == "eventsourcing.sqlite":
        settings.data_dir.mkdir(parents=True, exist_ok=True)
        return FileLeadership(settings.data_dir / f"atelier.{purpose}.lock")
    return None
