"""What the use cases answer with: plain read models, free of HTTP and JSON concerns."""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime
from uuid import UUID

from domain.accounts import TokenAccount


@dataclass(frozen=True)
class RateLimitStatus:
    """A user's place in the rolling-hour window at one moment; `limit` None: no limit."""

    limit: int | None
    used: int
    resets_at: datetime | None
    now: datetime

    @property
    def remaining(self) -> int | None:
        return None if self.limit is None else max(0, self.limit - self.used)

    @property
    def reset_seconds(self) -> int:
        if self.resets_at is None:
            return 0
        return max(0, math.ceil((self.resets_at - self.now).total_seconds()))

    @classmethod
    def of(cls, account: TokenAccount, limit: int | None, now: datetime) -> RateLimitStatus:
        return cls(
            limit=limit,
            used=len(account.accepted_in_window(now)),
            resets_at=account.window_resets_at(now),
            now=now,
        )


@dataclass(frozen=True)
class Receipt:
    generation_id: UUID
    status: str
    token_cost: int
    estimated_time: str
    queue_position: int
    replayed: bool
    rate_limit: RateLimitStatus


@dataclass(frozen=True)
class AccountRecord:
    user_id: str
    status: str
    balance: int
    reserved: int
    available: int
    version: int
    opened_at: datetime
    disabled_reason: str | None

    @classmethod
    def of(cls, account: TokenAccount) -> AccountRecord:
        return cls(
            user_id=account.user_id,
            status=account.status,
            balance=account.balance,
            reserved=account.reserved,
            available=account.available,
            version=account.version,
            opened_at=account.opened_at,
            disabled_reason=account.disabled_reason,
        )


@dataclass(frozen=True)
class AccountSummary:
    record: AccountRecord
    rate_limit: RateLimitStatus
