"""The pending-queue read model against the replay: every waiting or running generation, each
with its owner, its place (the position of its request), its status and its times."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from application import events
from application.audit import violations as rule
from application.audit.reading import moment_micros
from application.audit.replay import Replay
from infrastructure.audit.consistent_read import ViewReader
from infrastructure.audit.view_check import ViewCheck

COLUMNS = ("generation_id", "user_id", "seq", "status", "requested_at", "lease_expires_at")
ENDS = frozenset(
    {
        events.GENERATION_COMPLETED,
        events.GENERATION_FAILED,
        events.GENERATION_CANCELLED,
        events.GENERATION_EXPIRED,
    }
)


class PendingQueueCheck(ViewCheck):
    """The rows the view should hold: one per generation from its request until it ends."""

    event_classes = frozenset({events.GENERATION_REQUESTED, events.GENERATION_STARTED, *ENDS})

    def __init__(self, *args: Any) -> None:
        super().__init__(*args)
        # generation -> its expected row, the id made a UUID when compared
        self.rows: dict[int, tuple[Any, ...]] = {}

    def observe(self, position: int, key: int, cls: type[Any], data: dict[str, Any]) -> None:
        if cls is events.GENERATION_REQUESTED:
            at = moment_micros(data["requested_at"])
            self.rows[key] = (key, data["user_id"], position, "pending", at, None)
        elif cls is events.GENERATION_STARTED and key in self.rows:
            row = self.rows[key]
            lease = moment_micros(data["lease_expires_at"])
            self.rows[key] = (*row[:3], "processing", row[4], lease)
        elif cls in ENDS:
            self.rows.pop(key, None)

    @staticmethod
    def read(reader: ViewReader) -> dict[str, tuple[Any, ...]]:
        query = f"SELECT {', '.join(COLUMNS)} FROM {{pending_queue}}"  # noqa: S608
        return {row[0]: tuple(row) for row in reader.values(query)}

    def differences(self, held: dict[str, tuple[Any, ...]], replay: Replay) -> int:
        expected = {
            str(UUID(int=key)): (str(UUID(int=key)), *row[1:]) for key, row in self.rows.items()
        }
        count = 0
        for key in sorted(set(held) | set(expected)):
            ours, actual = expected.get(key), held.get(key)
            if ours == actual:
                continue
            count += 1
            if actual is None:
                why = "missing a generation the replay has waiting or running"
            elif ours is None:
                why = "holds a generation the replay has not waiting or running"
            else:
                changed = [
                    f"{column} {theirs!r} (replay: {mine!r})"
                    for column, theirs, mine in zip(COLUMNS, actual, ours, strict=True)
                    if theirs != mine
                ]
                why = "differs in " + ", ".join(changed)
            row = ours or actual
            assert row is not None
            replay.found.add(
                rule.PROJECTION_MISMATCH,
                f"read model {self.name}",
                f"generation {key}: {why}",
                row[2],
            )
        return count
