"""The hourly limit: at most MAX_REQUESTS_PER_HOUR acceptances in any rolling hour of an account."""

from __future__ import annotations

from bisect import bisect_left, bisect_right, insort

from application.audit import violations as rule
from application.audit.state import Ledger, ReplayState

WINDOW = 3_600_000_000  # the rolling hour, in microseconds
LATEST = 1 << 62  # sorts after any position, so (time, LATEST) bounds every entry at `time`


class RollingHour(ReplayState):
    def accept(self, ledger: Ledger, at: int, position: int, limit: int | None) -> None:
        """Count an acceptance (kept sorted by time, two hours of them) and check its hours,
        each hour by the limit its last acceptance was admitted under (None: no limit)."""
        window = ledger.window
        insort(window, (at, position, limit))
        drop = bisect_right(window, (window[-1][0] - 2 * WINDOW, LATEST))
        if drop:
            del window[:drop]
        # Each hour (end - 1h, end] holding `at` is fullest when `end` is an acceptance in it.
        first = bisect_left(window, (at, position))
        last = bisect_left(window, (at + WINDOW, 0))
        for end in range(first, last):
            limit = window[end][2]
            if limit is None:
                continue
            start = bisect_right(window, (window[end][0] - WINDOW, LATEST))
            if end + 1 - start > limit:
                why = f"{end + 1 - start} generations accepted within one hour (limit {limit})"
                positions = (p for _, p, _ in window[start : end + 1])
                self.found.add(rule.RATE_LIMIT, f"account {ledger.user_id}", why, *positions)
                return
