"""TokenAccount's events: balances and reservations re-derived, each capture or release checked."""

from __future__ import annotations

from typing import Any

from application.audit import violations as rule
from application.audit.checks.rolling_hour import RollingHour
from application.audit.reading import LoggedEvent, generation_key, moment_micros
from application.audit.state import CAPTURED, RELEASED, Ledger, Life, generation, unpack
from domain.accounts import TokenAccount


class AccountEvents(RollingHour):
    def ledger(self, notification: LoggedEvent) -> Ledger | None:
        """The account the event belongs to, its version checked; None if never opened."""
        ledger = self.accounts.get(notification.key)
        if ledger is None:
            self.flag(rule.ORPHAN_EVENT, notification, "event of an account never opened")
            self.rejected = True
            return None
        version = notification.originator_version
        if version != ledger.version + 1:
            why = f"version {version} follows version {ledger.version}"
            self.found.add(rule.VERSION_GAP, f"account {ledger.user_id}", why, notification.id)
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
        """AccountDisabled or AccountEnabled."""
        ledger = self.ledger(notification)
        if ledger is not None:
            ledger.disabled = cls is TokenAccount.AccountDisabled

    def reserved(self, notification: LoggedEvent, cls: type[Any]) -> None:
        ledger = self.ledger(notification)
        if ledger is None:
            return
        data = self.data(notification, cls)
        key, amount = generation_key(data["generation_id"]), int(data["amount"])
        position, add = notification.id, self.found.add
        if ledger.disabled:
            why = "tokens reserved while the account was disabled"
            add(rule.RESERVED_WHILE_DISABLED, f"account {ledger.user_id}", why, position)
        recorded = data.get("hourly_limit")  # judged by its own limit; older: the shell's
        limit = self.hourly_limit if recorded is None else (int(recorded) or None)
        self.accept(ledger, moment_micros(data["at"]), position, limit)
        if key in ledger.outstanding:
            first = ledger.outstanding[key][1]
            add(rule.RESERVED_TWICE, generation(key), "reserved again", first, position)
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
            why = f"reserved again after it ended {status} and was settled"
            add(rule.RESERVED_TWICE, generation(key), why, ended, position)
            return
        elif life.reservation:
            add(rule.RESERVED_TWICE, generation(key), "reserved again", life.reservation, position)
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
        key, amount = generation_key(data["generation_id"]), int(data["amount"])
        position, add = notification.id, self.found.add
        held = ledger.outstanding.pop(key, None)
        life = self.generations.get(key)
        if held is None:
            first = unpack(life)[2] if isinstance(life, int) else life and life.resolved
            if first:
                add(rule.RESOLVED_TWICE, generation(key), f"{kind} again", first, position)
            else:
                why = f"{kind} on account {ledger.user_id}, which holds no reservation for it"
                add(rule.RESOLVED_UNRESERVED, generation(key), why, position)
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
            why = f"{kind} {amount} tokens of a reservation of {reserved}"
            add(rule.RESOLUTION_AMOUNT, generation(key), why, reserved_at, position)
        self.check_available(ledger, notification)
        if not isinstance(life, Life):
            return  # only a second reservation can be held without a Life: reported then
        life.resolution = kind
        life.resolved = position
        if life.status is None:
            why = f"{kind} before it was requested"
            add(rule.RESOLVED_EARLY, generation(key), why, position)
        elif life.ended:
            self.settle_if_done(key, life)

    def check_available(self, ledger: Ledger, notification: LoggedEvent) -> None:
        """Available tokens below zero: reported once per stretch, at the event that did it."""
        if ledger.balance - ledger.reserved >= 0:
            ledger.negative = False
            return
        if not ledger.negative:
            ledger.negative = True
            why = (
                f"available tokens fell to {ledger.balance - ledger.reserved} "
                f"(balance {ledger.balance}, reserved {ledger.reserved})"
            )
            self.found.add(
                rule.NEGATIVE_AVAILABLE, f"account {ledger.user_id}", why, notification.id
            )
