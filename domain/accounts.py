"""TokenAccount: a user's tokens, reservations, rolling-hour limit and idempotency keys."""

from __future__ import annotations

import math
from datetime import datetime, timedelta
from typing import Any
from uuid import UUID

from eventsourcing.domain import Aggregate, event

from domain import errors  # errors.AccountDisabled: the event class below has its name
from domain.errors import (
    FieldProblem,
    IdempotencyKeyReused,
    InsufficientTokens,
    InvalidAmount,
    InvalidRequest,
    InvalidTransition,
    RateLimitExceeded,
)
from domain.identifiers import USER_ID, account_id

RATE_WINDOW = timedelta(hours=1)
MAX_GRANT = 1_000_000
DEFAULT_HOURLY_LIMIT = 10
DEFAULT_IDEMPOTENCY_TTL = timedelta(days=1)


def seconds_until(moment: datetime, now: datetime) -> int:
    """Whole seconds from `now` until `moment`, rounded up, at least 1."""
    return max(1, math.ceil((moment - now).total_seconds()))


class TokenAccount(Aggregate):
    """A user's tokens: granted, reserved by generations, then captured or released."""

    @staticmethod
    def create_id(user_id: str) -> UUID:
        return account_id(user_id)

    class AccountOpened(Aggregate.Created):
        user_id: str
        tokens: int
        at: datetime

    class TokensGranted(Aggregate.Event):
        amount: int
        reason: str
        at: datetime
        idempotency: dict[str, Any] | None

    class TokensReserved(Aggregate.Event):
        class_version = 2  # v2: hourly_limit

        generation_id: str
        amount: int
        at: datetime
        idempotency: dict[str, Any] | None
        # The MAX_REQUESTS_PER_HOUR it was admitted under; 0: no limit; None: before v2.
        hourly_limit: int | None

        @staticmethod
        def upcast_v1_v2(state: dict[str, Any]) -> None:
            state["hourly_limit"] = None

    class TokensCaptured(Aggregate.Event):
        generation_id: str
        amount: int
        at: datetime

    class TokensReleased(Aggregate.Event):
        generation_id: str
        amount: int
        at: datetime

    class AccountDisabled(Aggregate.Event):
        reason: str
        at: datetime

    class AccountEnabled(Aggregate.Event):
        at: datetime

    @event(AccountOpened)
    def __init__(self, user_id: str, tokens: int, at: datetime) -> None:
        self.user_id = user_id
        self.opened_at = at
        self.balance = tokens
        self.reservations: dict[str, int] = {}
        self.accepted_at: list[datetime] = []  # acceptances inside the last rate window
        self.disabled_reason: str | None = None
        self.disabled = False
        self.remembered: dict[str, dict[str, Any]] = {}  # "scope:key" -> idempotent answer

    @classmethod
    def open(cls, user_id: str, tokens: int, at: datetime) -> TokenAccount:
        if not USER_ID.fullmatch(user_id):
            message = "A user id is 1-128 characters of A-Z a-z 0-9 _ . @ : -"
            raise InvalidRequest(message, [FieldProblem("userId", message)])
        if tokens < 0 or tokens > MAX_GRANT:
            raise InvalidAmount(f"Opening tokens must be between 0 and {MAX_GRANT}.")
        return cls(user_id=user_id, tokens=tokens, at=at)

    @property
    def reserved(self) -> int:
        return sum(self.reservations.values())

    @property
    def available(self) -> int:
        return self.balance - self.reserved

    @property
    def status(self) -> str:
        return "disabled" if self.disabled else "active"

    def accepted_in_window(self, now: datetime) -> list[datetime]:
        """Acceptance times that still count against the hourly limit at `now`, oldest first."""
        return [t for t in self.accepted_at if t > now - RATE_WINDOW]

    def window_resets_at(self, now: datetime) -> datetime | None:
        """When the oldest counted acceptance leaves the window (None when nothing counts)."""
        window = self.accepted_in_window(now)
        return window[0] + RATE_WINDOW if window else None

    def recall(self, scope: str, key: str, fingerprint: str, now: datetime) -> str | None:
        """The key's earlier answer while remembered; IdempotencyKeyReused for another request."""
        entry = self.remembered.get(f"{scope}:{key}")
        if entry is None or entry["expires_at"] <= now:
            return None
        if entry["fingerprint"] != fingerprint:
            raise IdempotencyKeyReused
        return str(entry["answer"])

    def require_active(self) -> None:
        if self.disabled:
            raise errors.AccountDisabled(f"Account {self.user_id} is disabled.")

    def check_rate_limit(self, now: datetime, hourly_limit: int | None) -> None:
        if hourly_limit is None:
            return
        window = self.accepted_in_window(now)
        if len(window) >= hourly_limit:
            oldest = window[0] if window else now
            retry_after = seconds_until(oldest + RATE_WINDOW, now)
            raise RateLimitExceeded(hourly_limit, retry_after)

    def check_admission(self, cost: int, at: datetime, hourly_limit: int | None) -> None:
        """What `reserve` decides, recording nothing: enabled, hourly limit, tokens, in order."""
        self.require_active()
        self.check_rate_limit(at, hourly_limit)
        if cost > self.available:
            raise InsufficientTokens(required=cost, available=self.available)

    def reserve(
        self,
        generation_id: UUID,
        cost: int,
        at: datetime,
        hourly_limit: int | None,
        idempotency: dict[str, Any] | None = None,
    ) -> None:
        """Count the generation in the hourly window, reserve its cost, remember its key."""
        self.check_admission(cost, at, hourly_limit)
        if str(generation_id) in self.reservations:
            raise InvalidTransition(f"Generation {generation_id} already holds a reservation.")
        self._reserved(
            generation_id=str(generation_id),
            amount=cost,
            at=at,
            idempotency=idempotency,
            hourly_limit=hourly_limit or 0,
        )

    @event(TokensReserved)
    def _reserved(
        self,
        generation_id: str,
        amount: int,
        at: datetime,
        idempotency: dict[str, Any] | None,
        hourly_limit: int | None,
    ) -> None:
        self.reservations[generation_id] = amount
        self.accepted_at = [*self.accepted_in_window(at), at]
        self._remember("generate", idempotency, generation_id, at)

    def grant(
        self, amount: int, reason: str, at: datetime, idempotency: dict[str, Any] | None = None
    ) -> None:
        if amount < 1 or amount > MAX_GRANT:
            raise InvalidAmount(f"A grant must be between 1 and {MAX_GRANT} tokens.")
        self._granted(amount=amount, reason=reason, at=at, idempotency=idempotency)

    @event(TokensGranted)
    def _granted(
        self, amount: int, reason: str, at: datetime, idempotency: dict[str, Any] | None
    ) -> None:
        self.balance += amount
        # A replayed grant answers with the account as it was right after this event.
        self._remember("grant", idempotency, str(self.version + 1), at)

    def capture(self, generation_id: UUID, at: datetime) -> None:
        """The generation completed: its reserved tokens are spent."""
        amount = self._reservation_of(generation_id)
        self._captured(generation_id=str(generation_id), amount=amount, at=at)

    @event(TokensCaptured)
    def _captured(self, generation_id: str, amount: int, at: datetime) -> None:
        del self.reservations[generation_id]
        self.balance -= amount

    def release(self, generation_id: UUID, at: datetime) -> None:
        """The generation ended without a result: its reserved tokens are available again."""
        amount = self._reservation_of(generation_id)
        self._released(generation_id=str(generation_id), amount=amount, at=at)

    @event(TokensReleased)
    def _released(self, generation_id: str, amount: int, at: datetime) -> None:
        del self.reservations[generation_id]

    def disable(self, reason: str, at: datetime) -> None:
        """Stop the account being used; disabling a disabled account changes nothing."""
        if not self.disabled:
            self._disabled(reason=reason, at=at)

    @event(AccountDisabled)
    def _disabled(self, reason: str, at: datetime) -> None:
        self.disabled = True
        self.disabled_reason = reason

    def enable(self, at: datetime) -> None:
        """Allow the account again; enabling an active account changes nothing."""
        if self.disabled:
            self._enabled(at=at)

    @event(AccountEnabled)
    def _enabled(self, at: datetime) -> None:
        self.disabled = False
        self.disabled_reason = None

    def _reservation_of(self, generation_id: UUID) -> int:
        try:
            return self.reservations[str(generation_id)]
        except KeyError:
            raise InvalidTransition(
                f"Generation {generation_id} holds no reservation on this account."
            ) from None

    def _remember(
        self, scope: str, idempotency: dict[str, Any] | None, answer: str, at: datetime
    ) -> None:
        """Keep the key's answer and forget every key whose time to live has passed."""
        live = {k: v for k, v in self.remembered.items() if v["expires_at"] > at}
        if idempotency is not None:
            live[f"{scope}:{idempotency['key']}"] = {
                "fingerprint": idempotency["fingerprint"],
                "answer": answer,
                "expires_at": idempotency["expires_at"],
            }
        self.remembered = live
