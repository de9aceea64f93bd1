"""A PostgreSQL connection of its own for session advisory locks, with keepalives."""

from __future__ import annotations

import hashlib
from typing import Any

import psycopg

from infrastructure.settings import Settings

LOCK_TIMEOUT_SECONDS = 10
# A dead peer is noticed by both ends in about 20 s, and its locks freed (docs/projections.md).
KEEPALIVE = {"idle": 5, "interval": 5, "count": 3}
UNACKNOWLEDGED_MS = 20_000


def advisory_key(schema: str, purpose: str = "queue") -> int:
    """A stable signed 64-bit key per schema and purpose: separate stores never block each other."""
    digest = hashlib.sha256(f"atelier.{purpose}.{schema}".encode()).digest()
    return int.from_bytes(digest[:8], "big", signed=True)


class LockSession:
    """A connection for session locks, opened on first use; dropping it ends every lock it held."""

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
