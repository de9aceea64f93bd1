"""The replayed state: accounts and generations as their events say they are, kept small."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from uuid import UUID

from application.audit import violations as rule
from application.audit.reading import EventDecoder, LoggedEvent
from application.audit.report import TokenTotals
from application.audit.violations import Violations
from domain.generations import GenerationStatus

# The domain's statuses as plain strings, shown in reports as such (`!r` included).
STATUSES = PENDING, PROCESSING, COMPLETED, FAILED, CANCELLED, EXPIRED = tuple(
    str(status) for status in GenerationStatus
)
CAPTURED = "captured"
RELEASED = "released"
# The one token effect each end state must have: captured iff completed.
SETTLEMENT: dict[str, str] = {
    COMPLETED: CAPTURED,
    FAILED: RELEASED,
    CANCELLED: RELEASED,
    EXPIRED: RELEASED,
}
END_CODES: dict[str, int] = {COMPLETED: 1, FAILED: 2, CANCELLED: 3, EXPIRED: 4}
END_OF_CODE = {code: status for status, code in END_CODES.items()}
POSITION_BITS = 44  # room for 17 trillion positions in a settled generation's integer
POSITION_MASK = (1 << POSITION_BITS) - 1


@dataclass(slots=True)
class Ledger:
    user_id: str
    balance: int
    version: int = 1
    reserved: int = 0
    outstanding: dict[int, tuple[int, int]] = field(default_factory=dict)  # -> (amount, position)
    # (micros, position, hourly limit it was admitted under), by time
    window: list[tuple[int, int, int | None]] = field(default_factory=list)
    disabled: bool = False
    negative: bool = False  # inside a stretch of negative availability (reported once)


@dataclass(slots=True)
class Life:
    """A generation not yet settled (`status` None: only its reservation seen so far)."""

    status: str | None = None
    user_id: str = ""
    cost: int = 0
    version: int = 0
    requested: int = 0  # position of GenerationRequested
    ended: int = 0  # position of the end state
    reservation: int = 0  # position of TokensReserved
    reserved: int = 0  # amount reserved
    reserved_by: str = ""  # user id of the account that reserved it
    resolution: str | None = None  # CAPTURED or RELEASED
    resolved: int = 0  # position of the capture or release


Settled = int  # end code | resolution position << 4 | end position << (4 + POSITION_BITS)


def settled(status: str, ended: int, resolved: int) -> Settled:
    return END_CODES[status] | resolved << 4 | ended << (4 + POSITION_BITS)


def unpack(value: Settled) -> tuple[str, int, int]:
    """(end state, end position, resolution position) of a settled generation."""
    return END_OF_CODE[value & 15], value >> (4 + POSITION_BITS), (value >> 4) & POSITION_MASK


def generation(key: int) -> str:
    return f"generation {UUID(int=key)}"


class ReplayState:
    """What every check of the replay reads and writes, and the rules spanning two aggregates."""

    def __init__(self, decoder: EventDecoder, hourly_limit: int | None, queue_capacity: int):
        self.decoder = decoder
        self.hourly_limit = hourly_limit
        self.queue_capacity = queue_capacity  # for events recorded before their limits were
        self.capacity_now = queue_capacity  # the capacity the latest request was admitted under
        self.found = Violations()
        self.tokens = TokenTotals()
        self.accounts: dict[int, Ledger] = {}
        self.generations: dict[int, Life | Settled] = {}
        # "user request-id" -> generation << POSITION_BITS | position
        self.requests: dict[str, int] = {}
        self.pending: dict[int, int] = {}  # pending generation -> its request position, FIFO
        self.over_capacity = False  # inside a stretch of too many pending (reported once)
        self.queued: dict[int, int] = {}  # what the queue aggregate counts -> where it came in
        self.queue_version = 0
        self.names: dict[type[Any], str] = {}  # event class -> its short name
        self.rejected = False  # the check refused the event: observers do not see it
        self.data: Callable[[LoggedEvent, type[Any]], dict[str, Any]] = decoder.data

    def flag(self, which: str, notification: LoggedEvent, message: str) -> None:
        """A violation about the aggregate of one event, shown by that event alone."""
        self.found.add(which, f"aggregate {notification.originator_id}", message, notification.id)

    def match(self, key: int, life: Life) -> None:
        """A generation and its reservation have both been seen: do they agree?"""
        shown_by = (life.reservation, life.requested)
        if life.reserved != life.cost:
            why = f"reserved {life.reserved} tokens for a generation that costs {life.cost}"
            self.found.add(rule.RESERVATION_AMOUNT, generation(key), why, *shown_by)
        if life.reserved_by != life.user_id:
            why = f"{life.user_id}'s generation reserved on {life.reserved_by}'s account"
            self.found.add(rule.RESERVATION_ACCOUNT, generation(key), why, *shown_by)

    def settle_if_done(self, key: int, life: Life) -> None:
        """An ended generation whose tokens were resolved: the right effect? Then one integer."""
        status = life.status
        if status not in SETTLEMENT or life.resolution is None or not life.reservation:
            return
        if SETTLEMENT[status] != life.resolution:
            why = f"{life.resolution} but the generation ended {status}"
            self.found.add(
                rule.RESOLUTION_MISMATCH, generation(key), why, life.ended, life.resolved
            )
        self.generations[key] = settled(status, life.ended, life.resolved)
