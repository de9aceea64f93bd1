"""The activity read model: each minute's submissions, endings and captured tokens."""

from __future__ import annotations

from typing import Any

from application.audit.reading import moment_micros
from application.audit.replay import Replay
from domain.accounts import TokenAccount
from domain.generations import Generation
from infrastructure.audit.checks.view_check import ViewCheck, unequal
from infrastructure.audit.consistent_read import ViewReader
from infrastructure.projections.activity import minute_of
from infrastructure.projections.sql import from_micros

# Each followed event: the figure it counts in, and the field holding its moment.
FIGURES: dict[type[Any], tuple[str, str]] = {
    Generation.GenerationRequested: ("submitted", "requested_at"),
    Generation.GenerationCompleted: ("completed", "at"),
    Generation.GenerationFailed: ("failed", "at"),
    Generation.GenerationCancelled: ("cancelled", "at"),
    Generation.ProcessingCancelled: ("cancelled", "at"),
    Generation.GenerationExpired: ("expired", "at"),
    TokenAccount.TokensCaptured: ("tokensCaptured", "at"),
}


class ActivityCheck(ViewCheck):
    event_classes = frozenset(FIGURES)

    def __init__(self, *args: Any) -> None:
        super().__init__(*args)
        self.counted: dict[tuple[int, str], int] = {}  # (minute, figure) -> value

    def observe(self, position: int, key: int, cls: type[Any], data: dict[str, Any]) -> None:
        figure, field = FIGURES[cls]
        bucket = (minute_of(moment_micros(data[field])), figure)
        amount = data["amount"] if figure == "tokensCaptured" else 1
        self.counted[bucket] = self.counted.get(bucket, 0) + amount

    @staticmethod
    def read(reader: ViewReader) -> dict[tuple[int, str], int]:
        return {
            (int(minute), figure): int(value)
            for minute, figure, value in reader.values(
                "SELECT minute, figure, value FROM {activity_minutes}"
            )
        }

    def differences(self, held: dict[tuple[int, str], int], replay: Replay) -> int:
        buckets = unequal(held, self.counted, 0)
        for minute, figure in buckets:
            theirs, ours = held.get((minute, figure), 0), self.counted.get((minute, figure), 0)
            when = f"{from_micros(minute):%Y-%m-%dT%H:%MZ}"
            self.mismatch(replay, f"{when} {figure} is {theirs:,}; the replay makes it {ours:,}")
        return len(buckets)
