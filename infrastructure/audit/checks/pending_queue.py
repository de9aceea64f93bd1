"""The pending-queue read model: each waiting or running generation, its owner, place, times."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from application.audit import violations as rule
from application.audit.replay import Replay
from infrastructure.audit.checks.generation_rows import (
    CREATED_AT,
    SEQ,
    STATUS,
    USER_ID,
    GenerationRowsCheck,
)
from infrastructure.audit.consistent_read import ViewReader

COLUMNS = ("generation_id", "user_id", "seq", "status", "requested_at", "lease_expires_at")


class PendingQueueCheck(GenerationRowsCheck):
    @staticmethod
    def read(reader: ViewReader) -> dict[str, tuple[Any, ...]]:
        query = f"SELECT {', '.join(COLUMNS)} FROM {{pending_queue}}"  # noqa: S608
        return {row[0]: tuple(row) for row in reader.values(query)}

    def differences(self, held: dict[str, tuple[Any, ...]], replay: Replay) -> int:
        leases = self.rows.leases
        expected: dict[str, tuple[Any, ...]] = {}
        for number, live in self.rows.running.items():
            generation_id = str(UUID(int=number))
            expected[generation_id] = (
                generation_id,
                live[USER_ID],
                live[SEQ],
                live[STATUS],
                live[CREATED_AT],
                leases.get(number),
            )
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
