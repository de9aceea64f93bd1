"""Activity per minute: generations submitted and ended, and tokens captured, in each minute."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from application.queries import ActivityBucket
from domain.accounts import TokenAccount
from domain.generations import Generation
from infrastructure.projections.freshness import Freshness
from infrastructure.projections.sql import from_micros, micros
from infrastructure.projections.table_projection import Handler, TableProjection, on
from infrastructure.projections.view import ProjectionView
from infrastructure.projections.writes import Writes

MINUTE_MICROS = 60_000_000
FIGURES = ("submitted", "completed", "failed", "cancelled", "expired", "tokensCaptured")
ADD = (
    "INSERT INTO {activity_minutes} AS activity (minute, figure, value) VALUES (?, ?, ?) "
    "ON CONFLICT (minute, figure) DO UPDATE SET value = activity.value + excluded.value"
)
Ended = (
    Generation.GenerationCompleted
    | Generation.GenerationFailed
    | Generation.GenerationCancelled
    | Generation.ProcessingCancelled
    | Generation.GenerationExpired
)


def minute_of(moment_micros: int) -> int:
    """The start of the minute `moment_micros` falls in, in microseconds since the epoch."""
    return moment_micros - moment_micros % MINUTE_MICROS


class ActivityProjection(TableProjection):
    name = "activity"
    tables = {"activity_minutes": ("minute", "figure")}
    schema = (
        "CREATE TABLE IF NOT EXISTS {activity_minutes} ("
        "minute BIGINT NOT NULL, figure TEXT NOT NULL, value BIGINT NOT NULL, "
        "PRIMARY KEY (minute, figure))",
    )

    def event_handlers(self) -> Iterable[tuple[str, Handler]]:
        yield on(Generation.GenerationRequested, self._requested)
        yield on(Generation.GenerationCompleted, self._ended("completed"))
        yield on(Generation.GenerationFailed, self._ended("failed"))
        yield on(Generation.GenerationCancelled, self._ended("cancelled"))
        yield on(Generation.ProcessingCancelled, self._ended("cancelled"))
        yield on(Generation.GenerationExpired, self._ended("expired"))
        yield on(TokenAccount.TokensCaptured, self._captured)

    @staticmethod
    def _add(writes: Writes, at: datetime, figure: str, amount: int) -> None:
        writes.add_to(ADD, (minute_of(micros(at)), figure), amount)

    def _requested(
        self, event: Generation.GenerationRequested, position: int, writes: Writes
    ) -> None:
        self._add(writes, event.requested_at, "submitted", 1)

    def _ended(self, figure: str) -> Handler:
        def handle(event: Ended, position: int, writes: Writes) -> None:
            self._add(writes, event.at, figure, 1)

        return handle

    def _captured(self, event: TokenAccount.TokensCaptured, position: int, writes: Writes) -> None:
        self._add(writes, event.at, "tokensCaptured", event.amount)


class Activity:
    """The last minutes' buckets, oldest first, empty minutes included."""

    def __init__(self, view: ProjectionView, freshness: Freshness) -> None:
        self.view = view
        self.freshness = freshness

    def minutes(self, count: int, now: datetime) -> list[ActivityBucket]:
        """`count` buckets, the last one the minute `now` falls in."""
        self.freshness.wait(self.view)
        last = minute_of(micros(now))
        first = last - (count - 1) * MINUTE_MICROS
        values: dict[int, dict[str, int]] = {}
        query = "SELECT minute, figure, value FROM {activity_minutes} WHERE minute BETWEEN ? AND ?"
        for row in self.view.fetch(query, first, last):
            values.setdefault(int(row["minute"]), {})[row["figure"]] = int(row["value"])
        return [
            ActivityBucket(
                from_micros(minute), {f: values.get(minute, {}).get(f, 0) for f in FIGURES}
            )
            for minute in range(first, last + 1, MINUTE_MICROS)
        ]
