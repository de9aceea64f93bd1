"""The rate-limit read model: each account's acceptances within the hour of its newest one."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from application.audit.reading import moment_micros
from application.audit.replay import Replay
from domain.accounts import TokenAccount
from infrastructure.audit.checks.view_check import ViewCheck, unequal
from infrastructure.audit.consistent_read import ViewReader

HOUR_MICROS = 3_600_000_000
COLUMNS = ("account_id", "generation_id", "accepted_at")


class RateLimitCheck(ViewCheck):
    event_classes = frozenset({TokenAccount.TokensReserved})

    def __init__(self, *args: Any) -> None:
        super().__init__(*args)
        self.windows: dict[int, set[tuple[str, int]]] = {}  # account -> {(generation, at)}

    def observe(self, position: int, key: int, cls: type[Any], data: dict[str, Any]) -> None:
        at = moment_micros(data["at"])  # `key`: the account's
        since = at - HOUR_MICROS
        window = {kept for kept in self.windows.get(key, ()) if kept[1] > since}
        window.add((str(data["generation_id"]), at))
        self.windows[key] = window

    @staticmethod
    def read(reader: ViewReader) -> dict[str, set[tuple[str, int]]]:
        held: dict[str, set[tuple[str, int]]] = {}
        for page in reader.pages("rate_limit_acceptances", COLUMNS):
            for account_id, generation_id, accepted_at in page:
                held.setdefault(account_id, set()).add((generation_id, int(accepted_at)))
        return held

    def differences(self, held: dict[str, set[tuple[str, int]]], replay: Replay) -> int:
        # The view's ids as the projection writes them: an id spelt otherwise is a difference.
        windows = {str(UUID(int=key)): window for key, window in self.windows.items()}
        accounts = unequal(held, windows, set())
        users = {str(UUID(int=key)): ledger.user_id for key, ledger in replay.accounts.items()}
        for account in accounts:
            expected, actual = windows.get(account, set()), held.get(account, set())
            missing, extra = len(expected - actual), len(actual - expected)
            self.mismatch(
                replay,
                f"account {users.get(account, account)}: {missing} acceptances of its last hour "
                f"missing, {extra} that should not be there",
            )
        return len(accounts)
