"""Each failing follower's error and stuck position, in a table any process can read."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime

from infrastructure.background import LoopHealth
from infrastructure.projections.sql import from_micros, micros
from infrastructure.projections.view import ProjectionView, tracking_key

logger = logging.getLogger(__name__)

MAX_ERROR_CHARS = 500

RECORD_FAILURE = (
    "INSERT INTO {follower_health} (name, error, position, since) VALUES (?, ?, ?, ?) "
    "ON CONFLICT (name) DO UPDATE SET error = excluded.error, position = excluded.position"
)
CLEAR_FAILURE = "DELETE FROM {follower_health} WHERE name = ?"
READ_FAILURES = "SELECT name, error, position, since FROM {follower_health}"


@dataclass(frozen=True)
class FollowerFailure:
    """A follower failing since `since`; the event it fails on comes after `position`."""

    error: str
    position: int | None
    since: datetime


class FollowerHealthTable:
    """Written by the leading runner when a follower's state changes; read by every process."""

    def __init__(self, view: ProjectionView, application_name: str) -> None:
        self.view = view  # any view: they share the database, and compile the table's name
        self.application_name = application_name

    def record(self, name: str, health: LoopHealth, now: datetime) -> None:
        key = tracking_key(self.application_name, name)
        if health.error is None:
            self.view.execute(CLEAR_FAILURE, key)
        else:
            error = health.error.replace("\x00", "\\0")[:MAX_ERROR_CHARS]
            self.view.execute(RECORD_FAILURE, key, error, health.position, micros(now))

    def failures(self) -> dict[str, FollowerFailure]:
        """The failing followers of this application, by name."""
        prefix = tracking_key(self.application_name, "")
        return {
            row["name"].removeprefix(prefix): FollowerFailure(
                row["error"], row["position"], from_micros(row["since"])
            )
            for row in self.view.fetch(READ_FAILURES)
            if row["name"].startswith(prefix)
        }

    def failing(self) -> frozenset[str]:
        try:
            return frozenset(self.failures())
        except Exception:  # a read must not fail because its health could not be read
            logger.debug("could not read the followers' health", exc_info=True)
            return frozenset()
