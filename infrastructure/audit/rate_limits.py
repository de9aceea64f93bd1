"""The rate-limit read model against the replay: each account's acceptances still inside the
rolling hour of its newest one (the rule the account itself keeps)."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from application import events
from application.audit import violations as rule
from application.audit.reading import moment_micros
from application.audit.replay import Replay
from infrastructure.audit.consistent_read import ViewReader
from infrastructure.audit.view_check import ViewCheck

HOUR_MICROS = 3_600_000_000
COLUMNS = ("account_id", "generation_id", "accepted_at")


class RateLimitCheck(ViewCheck):
    """Per account, the acceptances of its last rolling hour, pruned as each one arrives."""

    event_classes = frozenset({events.TOKENS_RESERVED})

    def __init__(self, *args: Any) -> None:
        super().__init__(*args)
        self.windows: dict[int, set[tuple[str, int]]] = {}  # account -> {(generation, at)}

    def observe(
        self, position: int, originator_id: UUID, cls: type[Any], data: dict[str, Any]
    ) -> None:
        at = moment_micros(data["at"])
        account = originator_id.int
        since = at - HOUR_MICROS
        window = {kept for kept in self.windows.get(account, ()) if kept[1] > since}
        window.add((str(data["generation_id"]), at))
        self.windows[account] = window

    @staticmethod
    def read(reader: ViewReader) -> dict[int, set[tuple[str, int]]]:
        held: dict[int, set[tuple[str, int]]] = {}
        for page in reader.pages(
            "rate_limit_acceptances", COLUMNS, ("account_id", "generation_id")
        ):
            for account_id, generation_id, accepted_at in page:
                account = UUID(account_id).int
                held.setdefault(account, set()).add((generation_id, int(accepted_at)))
        return held

    def differences(self, held: dict[int, set[tuple[str, int]]], replay: Replay) -> int:
        count = 0
        for account in sorted(set(held) | set(self.windows)):
            expected = self.windows.get(account, set())
            actual = held.get(account, set())
            if expected == actual:
                continue
            count += 1
            ledger = replay.accounts.get(account)
            who = ledger.user_id if ledger is not None else str(UUID(int=account))
            missing, extra = len(expected - actual), len(actual - expected)
            replay.found.add(
                rule.PROJECTION_MISMATCH,
                f"read model {self.name}",
                f"account {who}: {missing} acceptances of its last hour missing, "
                f"{extra} that should not be there",
            )
        return count
