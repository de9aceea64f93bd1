"""The rate-limit read model against the replay: each account's acceptances still inside the
rolling hour of its newest one (the rule the account itself keeps)."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from application import events
from application.audit import violations as rule
from application.audit.reading import moment
from application.audit.replay import Replay
from infrastructure.audit.consistent_read import ViewReader
from infrastructure.audit.view_check import ViewCheck
from infrastructure.projections.sql import micros

HOUR_MICROS = 3_600_000_000
COLUMNS = ("account_id", "generation_id", "accepted_at")


class RateLimitCheck(ViewCheck):
    """Per account, the acceptances of its last rolling hour, pruned as each one arrives."""

    event_classes = frozenset({events.TOKENS_RESERVED})

    def __init__(self, *args: Any) -> None:
        super().__init__(*args)
        self.windows: dict[str, set[tuple[str, int]]] = {}  # account -> {(generation, at)}

    def observe(
        self, position: int, originator_id: UUID, cls: type[Any], data: dict[str, Any]
    ) -> None:
        at = micros(moment(data["at"]))
        account = str(originator_id)
        window = {kept for kept in self.windows.get(account, ()) if kept[1] > at - HOUR_MICROS}
        window.add((str(data["generation_id"]), at))
        self.windows[account] = window

    def differences(self, reader: ViewReader, replay: Replay) -> int:
        held: dict[str, set[tuple[str, int]]] = {}
        for page in reader.pages(
            "rate_limit_acceptances", COLUMNS, ("account_id", "generation_id")
        ):
            for row in page:
                held.setdefault(row["account_id"], set()).add(
                    (row["generation_id"], int(row["accepted_at"]))
                )
        count = 0
        for account in sorted(set(held) | set(self.windows)):
            expected = self.windows.get(account, set())
            actual = held.get(account, set())
            if expected == actual:
                continue
            count += 1
            ledger = replay.accounts.get(UUID(account).int)
            who = ledger.user_id if ledger is not None else account
            missing, extra = len(expected - actual), len(actual - expected)
            replay.found.add(
                rule.PROJECTION_MISMATCH,
                f"read model {self.name}",
                f"account {who}: {missing} acceptances of its last hour missing, "
                f"{extra} that should not be there",
            )
        return count
