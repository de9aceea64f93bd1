"""Leadership: whether this process leads a kind of background work among those of one store."""

from __future__ import annotations

import fcntl
import logging
import time
from pathlib import Path
from typing import Any

import psycopg

from infrastructure.background import backoff_seconds
from infrastructure.locks.session import LockSession, advisory_key
from infrastructure.settings import Settings

logger = logging.getLogger(__name__)

RETRY_SECONDS = 0.5
RETRY_CAP_SECONDS = 5.0


class PostgresLeadership:
    """A session advisory lock, taken without waiting, held until released or the session ends."""

    def __init__(self, settings: Settings, purpose: str) -> None:
        self.key = advisory_key(settings.postgres_schema, purpose)
        self._session = LockSession(settings)
        self._leading = False
        self._failures = 0
        self._retry_at = 0.0

    def leads(self) -> bool:
        """True while this process holds the lead; tries to take it when it does not, backing
        off (capped, jittered) while the database is out of reach, logged once each way."""
        if self._failures and time.monotonic() < self._retry_at:
            return False
        try:
            if not self._session.is_open:
                self._leading = False
            if self._leading:
                self._session.execute("SELECT %s", self.key)  # still connected, still leading
            else:
                self._leading = bool(
                    self._session.execute("SELECT pg_try_advisory_lock(%s)", self.key)
                )
        except psycopg.Error as error:
            self._failures += 1
            if self._failures == 1:
                logger.warning("leadership check failing, backing off: %s", error)
            self._retry_at = time.monotonic() + backoff_seconds(
                self._failures, RETRY_SECONDS, RETRY_CAP_SECONDS
            )
            self.release()
            return False
        if self._failures:
            logger.warning("leadership check recovered after %d failures", self._failures)
            self._failures = 0
        return self._leading

    def release(self) -> None:
        """Unlock explicitly: a closed session's lock is freed only once the server notices."""
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
