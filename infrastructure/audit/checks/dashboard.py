"""The dashboard totals against the replay: generations per status, tokens in each state."""

from __future__ import annotations

from collections import Counter

from application.audit.replay import Replay
from application.audit.state import END_OF_CODE, STATUSES
from infrastructure.audit.checks.view_check import ViewCheck, unequal
from infrastructure.audit.consistent_read import ViewReader


def replayed_totals(replay: Replay) -> dict[str, int]:
    """The dashboard's metrics as the replay computes them at its current position."""
    statuses: Counter[str] = Counter()
    for life in replay.generations.values():
        if isinstance(life, int):
            statuses[END_OF_CODE[life & 15]] += 1
        elif life.status is not None:
            statuses[life.status] += 1
    tokens = replay.tokens
    return {
        **{f"generations.{status}": statuses[status] for status in STATUSES},
        "tokens.granted": tokens.granted,
        "tokens.reserved": sum(ledger.reserved for ledger in replay.accounts.values()),
        "tokens.captured": tokens.captured,
        "tokens.released": tokens.released,
    }


class DashboardCheck(ViewCheck):
    @staticmethod
    def read(reader: ViewReader) -> dict[str, int]:
        return {
            metric: int(value)
            for metric, value in reader.values("SELECT metric, value FROM {dashboard_totals}")
        }

    def differences(self, held: dict[str, int], replay: Replay) -> int:
        expected = replayed_totals(replay)
        metrics = unequal(held, expected, 0)
        for metric in metrics:
            theirs, ours = held.get(metric, 0), expected.get(metric, 0)
            self.mismatch(replay, f"{metric} is {theirs:,}; the replay makes it {ours:,}")
        return len(metrics)
