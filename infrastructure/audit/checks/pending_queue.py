"""The pending-queue read model: each waiting or running generation, its owner, place, times."""

from __future__ import annotations

from operator import itemgetter
from typing import Any
from uuid import UUID

from application.audit.replay import Replay
from infrastructure.audit.checks.generation_rows import (
    CREATED_AT,
    SEQ,
    STATUS,
    USER_ID,
    GenerationRowsCheck,
)
from infrastructure.audit.checks.view_check import unequal
from infrastructure.audit.consistent_read import ViewReader

KEPT = itemgetter(USER_ID, SEQ, STATUS, CREATED_AT)  # of a row, beside its id and lease
COLUMNS = ("generation_id", "user_id", "seq", "status", "requested_at", "lease_expires_at")


class PendingQueueCheck(GenerationRowsCheck):
    @staticmethod
    def read(reader: ViewReader) -> dict[str, tuple[Any, ...]]:
        query = f"SELECT {', '.join(COLUMNS)} FROM {{pending_queue}}"  # noqa: S608
        return {row[0]: tuple(row) for row in reader.values(query)}

    def differences(self, held: dict[str, tuple[Any, ...]], replay: Replay) -> int:
        expected: dict[str, tuple[Any, ...]] = {}
        for number, row in self.rows.running.items():
            key = str(UUID(int=number))
            expected[key] = (key, *KEPT(row), self.rows.leases.get(number))
        keys = unequal(held, expected)
        for key in keys:
            ours, actual = expected.get(key), held.get(key)
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
            self.mismatch(replay, f"generation {key}: {why}", (ours or actual or ())[2])
        return len(keys)
