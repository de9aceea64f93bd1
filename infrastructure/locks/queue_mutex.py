"""The queue mutex: writers of the queue aggregate take turns across processes (an optimisation).

Both kinds first take a thread lock, since neither excludes one process's threads.
"""

from __future__ import annotations

import fcntl
import logging
import threading
from pathlib import Path
from types import TracebackType

import psycopg

from infrastructure.locks.session import LockSession, advisory_key
from infrastructure.settings import Settings

logger = logging.getLogger(__name__)


class PostgresQueueMutex:
    """Threads of this process, then processes sharing the database, one at a time."""

    def __init__(self, settings: Settings) -> None:
        self.key = advisory_key(settings.postgres_schema)
        self._threads = threading.Lock()
        self._session = LockSession(settings)
        self._unavailable = False

    def __enter__(self) -> None:
        self._threads.acquire()
        try:
            self._session.execute("SELECT pg_advisory_lock(%s)", self.key)
        except psycopg.Error as error:
            # Without it the writers race and the version check decides: slower, still correct.
            if not self._unavailable:  # logged once per outage, not once per submission
                logger.warning("queue mutex unavailable; writers will race: %s", error)
            self._unavailable = True
            self._session.drop()
        else:
            if self._unavailable:
                logger.warning("queue mutex available again")
            self._unavailable = False

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
