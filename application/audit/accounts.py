"""The replay of account events: balances, reservations and the rolling hour, re-derived.

Checked here: available tokens (balance - reserved) never below zero after any event; a
generation reserved at most once; a capture or release only of an outstanding reservation and
of the amount reserved; no reservation while the account is disabled; at most the hourly limit
of acceptances in any rolling hour.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right, insort
from typing import Any

from application.audit import violations as rule
from application.audit.reading import LoggedEvent, generation_key, moment_micros
from application.audit.state import (
    CAPTURED,
    RELEASED,
    Ledger,
    Life,
    ReplayState,
    generation,
    unpack,
)

WINDOW = 3_600_000_000  # the rolling hour, in microseconds
LATEST = 1 << 62  # sorts after any position, so (time, LATEST) bounds every entry at `time`


class AccountEvents(ReplayState):
    """Handlers of TokenAccount's events."""

    def ledger(self, notification: LoggedEvent) -> Ledger | None:
        """The account the event belongs to, its version checked; None if never opened."""
        ledger = self.accounts.get(notification.key)
        if ledger is None:
            self.flag(rule.ORPHAN_EVENT, notification, "event of an account never opened")
            self.rejected = True
            return None
        version = notification.originator_version
        if version != ledger.version + 1:
            self.found.add(
                rule.VERSION_GAP,
                f"account {ledger.user_id}",
                f"version {version} follows version {ledger.version}",
                notification.id,
            )
        ledger.version = version
        return ledger

    def opened(self, notification: LoggedEvent, cls: type[Any]) -> None:
        data = self.data(notification, cls)
        key = notification.key
        if key in self.accounts or notification.originator_version != 1:
            self.flag(rule.ILLEGAL_TRANSITION, notification, "account opened twice or late")
            self.rejected = True
            return
        tokens = int(data["tokens"])
        self.accounts[key] = Ledger(str(data["user_id"]), tokens)
        self.tokens.granted += tokens
        if tokens < 0:
            self.check_available(self.accounts[key], notification)

    def granted(self, notification: LoggedEvent, cls: type[Any]) -> None:
        ledger = self.ledger(notification)
        if ledger is None:
            return
        amount = int(self.data(notification, cls)["amount"])
        ledger.balance += amount
        self.tokens.granted += amount
        self.check_available(ledger, notification)

    def disabled(self, notification: LoggedEvent, cls: type[Any]) -> None:
        ledger = self.ledger(notification)
        if ledger is not None:
            ledger.disabled = True

    def enabled(self, notification: LoggedEvent, cls: type[Any]) -> None:
        ledger = self.ledger(notification)
        if ledger is not None:
            ledger.disabled = False

    def reserved(self, notification: LoggedEvent, cls: type[Any]) -> None:
        ledger = self.ledger(notification)
        if ledger is None:
            return
        data = self.data(notification, cls)
        key = generation_key(data["generation_id"])
        amount = int(data["amount"])
        position = notification.id
        if ledger.disabled:
            self.found.add(
                rule.RESERVED_WHILE_DISABLED,
                f"account {ledger.user_id}",
                "tokens reserved while the account was disabled",
                position,
            )
        self.accept(ledger, moment_micros(data["at"]), position)
        if key in ledger.outstanding:
            first = ledger.outstanding[key][1]
            self.found.add(rule.RESERVED_TWICE, generation(key), "reserved again", first, position)
            self.rejected = True
            return
        ledger.outstanding[key] = (amount, position)
        ledger.reserved += amount
        self.check_available(ledger, notification)
        life = self.generations.get(key)
        if life is None:
            life = self.generations[key] = Life()
        elif isinstance(life, int):
            status, ended, _ = unpack(life)
            self.found.add(
                rule.RESERVED_TWICE,
                generation(key),
                f"reserved again after it ended {status} and was settled",
                ended,
                position,
            )
            return
        elif life.reservation:
            self.found.add(
                rule.RESERVED_TWICE, generation(key), "reserved again", life.reservation, position
            )
            return
        life.reservation = position
        life.reserved = amount
        life.reserved_by = ledger.user_id
        if life.status is not None:
            self.match(key, life)

    def captured(self, notification: LoggedEvent, cls: type[Any]) -> None:
        self.resolve(notification, cls, CAPTURED)

    def released(self, notification: LoggedEvent, cls: type[Any]) -> None:
        self.resolve(notification, cls, RELEASED)

    def resolve(self, notification: LoggedEvent, cls: type[Any], kind: str) -> None:
        """A capture or release: of an outstanding reservation, in full, once."""
        ledger = self.ledger(notification)
        if ledger is None:
            return
        data = self.data(notification, cls)
        key = generation_key(data["generation_id"])
        amount = int(data["amount"])
        position = notification.id
        held = ledger.outstanding.pop(key, None)
        life = self.generations.get(key)
        if held is None:
            if isinstance(life, int):
                first = unpack(life)[2]
                self.found.add(
                    rule.RESOLVED_TWICE, generation(key), f"{kind} again", first, position
                )
            elif life is not None and life.resolution is not None:
                self.found.add(
                    rule.RESOLVED_TWICE, generation(key), f"{kind} again", life.resolved, position
                )
            else:
                self.found.add(
                    rule.RESOLVED_UNRESERVED,
                    generation(key),
                    f"{kind} on account {ledger.user_id}, which holds no reservation for it",
                    position,
                )
            self.rejected = True
            return
        reserved, reserved_at = held
        ledger.reserved -= reserved
        if kind == CAPTURED:
            ledger.balance -= amount
            self.tokens.captured += amount
        else:
            self.tokens.released += amount
        if amount != reserved:
            self.found.add(
                rule.RESOLUTION_AMOUNT,
                generation(key),
                f"{kind} {amount} tokens of a reservation of {reserved}",
                reserved_at,
                position,
            )
        self.check_available(ledger, notification)
        if not isinstance(life, Life):
            return  # only a second reservation can be held without a Life: reported then
        life.resolution = kind
        life.resolved = position
        if life.status is None:
            self.found.add(
                rule.RESOLVED_EARLY, generation(key), f"{kind} before it was requested", position
            )
        elif life.ended:
            self.settle_if_done(key, life)

    def accept(self, ledger: Ledger, at: int, position: int) -> None:
        """Count an acceptance in the account's rolling hour; more than the limit is a breach.

        Acceptances are kept sorted by time, so one recorded out of order (the clocks of two
        hosts) is still counted in every hour it belongs to; two hours are kept so that a late
        one still meets the acceptances it shared an hour with.
        """
        window = ledger.window
        insort(window, (at, position))
        drop = bisect_right(window, (window[-1][0] - 2 * WINDOW, LATEST))
        if drop:
            del window[:drop]
        limit = self.hourly_limit
        if limit is None:
            return
        # Each hour (end - 1h, end] holding `at` has its fullest count when `end` is one of the
        # acceptances at or after `at` and less than an hour later.
        first = bisect_left(window, (at, position))
        last = bisect_left(window, (at + WINDOW, 0))
        for end in range(first, last):
            start = bisect_right(window, (window[end][0] - WINDOW, LATEST))
            if end + 1 - start > limit:
                self.found.add(
                    rule.RATE_LIMIT,
                    f"account {ledger.user_id}",
                    f"{end + 1 - start} generations accepted within one hour (limit {limit})",
                    *(p for _, p in window[start : end + 1]),
                )
                return

    def check_available(self, ledger: Ledger, notification: LoggedEvent) -> None:
        """Available tokens below zero: reported once per stretch, at the event that did it."""
        if ledger.balance - ledger.reserved >= 0:
            ledger.negative = False
            return
        if not ledger.negative:
            ledger.negative = True
            self.found.add(
                rule.NEGATIVE_AVAILABLE,
                f"account {ledger.user_id}",
                f"available tokens fell to {ledger.balance - ledger.reserved} "
                f"(balance {ledger.balance}, reserved {ledger.reserved})",
                notification.id,
            )
