"""Rate-limit windows: each user's accepted generations that still count in the rolling hour."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from application.views import RateLimitStatus
from domain.accounts import RATE_WINDOW, TokenAccount
from domain.identifiers import account_id
from infrastructure.projections.freshness import Freshness
from infrastructure.projections.sql import from_micros, from_micros_or_none, micros, micros_in
from infrastructure.projections.table_projection import Handler, TableProjection, on
from infrastructure.projections.view import ProjectionView
from infrastructure.projections.writes import Writes

PRUNE = "DELETE FROM {rate_limit_acceptances} WHERE account_id = ? AND accepted_at <= ?"
ACCEPTED = "accepted"  # the batch's acceptances per account, while it is folded
ACCEPT = (
    "INSERT INTO {rate_limit_acceptances} (account_id, generation_id, accepted_at) VALUES (?, ?, ?)"
)


class RateLimitProjection(TableProjection):
    name = "rate_limits"
    tables = {"rate_limit_acceptances": ("account_id", "generation_id")}
    schema = (
        "CREATE TABLE IF NOT EXISTS {rate_limit_acceptances} ("
        "account_id TEXT NOT NULL, generation_id TEXT NOT NULL, accepted_at BIGINT NOT NULL, "
        "PRIMARY KEY (account_id, generation_id))",
        "CREATE INDEX IF NOT EXISTS rate_limit_acceptances_by_time "
        "ON {rate_limit_acceptances} (account_id, accepted_at)",
    )

    def event_handlers(self) -> Iterable[tuple[str, Handler]]:
        return (on(TokenAccount.TokensReserved, self._reserved),)

    def _reserved(self, event: TokenAccount.TokensReserved, position: int, writes: Writes) -> None:
        accepted: dict[str, list[tuple[str, int]]] = writes.folding.setdefault(ACCEPTED, {})
        account = accepted.setdefault(str(event.originator_id), [])
        account.append((event.generation_id, micros(event.at)))

    def finish(self, writes: Writes) -> None:
        """The batch's acceptances, pruned as one by one would (each at `a` drops `<= a - 1h`).

        Times need not be in order: clocks of different processes need not agree.
        """
        window = micros_in(RATE_WINDOW)
        accepted: dict[str, list[tuple[str, int]]] = writes.folding.get(ACCEPTED, {})
        for account, acceptances in accepted.items():
            writes.add(PRUNE, account, max(at for _, at in acceptances) - window)
        for account, acceptances in accepted.items():
            latest_after: int | None = None  # the latest acceptance after the one looked at
            survivors = []
            for generation_id, at in reversed(acceptances):
                if latest_after is None or at > latest_after - window:
                    survivors.append((generation_id, at))
                latest_after = at if latest_after is None else max(latest_after, at)
            for generation_id, at in reversed(survivors):
                writes.add(ACCEPT, account, generation_id, at)


class RateLimitWindows:
    """A user's rolling-hour window, as the account aggregate would report it at `now`."""

    def __init__(self, view: ProjectionView, freshness: Freshness, limit: int | None) -> None:
        self.view = view
        self.freshness = freshness
        self.limit = limit  # None: rate limiting is off

    def window(self, user_id: str, now: datetime) -> RateLimitStatus:
        self.freshness.wait(self.view)
        rows = self.view.fetch(
            "SELECT COUNT(*) AS used, MIN(accepted_at) AS oldest FROM {rate_limit_acceptances} "
            "WHERE account_id = ? AND accepted_at > ?",
            str(account_id(user_id)),
            micros(now - RATE_WINDOW),
        )
        oldest = from_micros_or_none(rows[0]["oldest"])
        return RateLimitStatus(
            limit=self.limit,
            used=rows[0]["used"],
            resets_at=None if oldest is None else oldest + RATE_WINDOW,
            now=now,
        )

    def fullest(self, now: datetime, at_least: int, count: int) -> list[FullWindow]:
        """Up to `count` windows holding `at_least` acceptances at `now`, fullest first."""
        self.freshness.wait(self.view)
        rows = self.view.fetch(
            "SELECT account_id, COUNT(*) AS used, MIN(accepted_at) AS oldest, "
            "MAX(generation_id) AS one_generation FROM {rate_limit_acceptances} "
            "WHERE accepted_at > ? GROUP BY account_id HAVING COUNT(*) >= ? "
            "ORDER BY used DESC, account_id LIMIT ?",
            micros(now - RATE_WINDOW),
            at_least,
            count,
        )
        return [
            FullWindow(row["one_generation"], int(row["used"]), from_micros(row["oldest"]))
            for row in rows
        ]


@dataclass(frozen=True)
class FullWindow:
    """An account's window, known by one of its generations (the view keeps no user id)."""

    generation_id: str
    used: int
    oldest: datetime
