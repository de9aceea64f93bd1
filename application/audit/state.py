"""The replayed state: accounts and generations as their events say they are, and the link
between a generation and the tokens it reserved.

Nothing here calls the aggregates: balances, reservations, windows and statuses are rebuilt from
the events' own fields with the contract's rules written out again, so an event the aggregates
would never have produced (a bug, a hand edit, a lost write) is seen for what it is.

Memory follows the live state, not the log: an account keeps its balance, its outstanding
reservations and the acceptances of its last two hours; a generation that has ended and had its
tokens settled shrinks to one integer (its end state and the two positions that show it); only
pending and processing generations, and those still missing half of a transaction, are kept in
full.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from uuid import UUID

from application.audit import violations as rule
from application.audit.reading import EventDecoder, LoggedEvent
from application.audit.report import TokenTotals
from application.audit.violations import Violations

PENDING = "pending"
PROCESSING = "processing"
COMPLETED = "completed"
FAILED = "failed"
CANCELLED = "cancelled"
EXPIRED = "expired"
CAPTURED = "captured"
RELEASED = "released"
# The one token effect each end state must have: captured iff completed.
# The audit names the statuses itself, as the contract does, rather than trusting the domain's.
STATUSES = (PENDING, PROCESSING, COMPLETED, FAILED, CANCELLED, EXPIRED)
SETTLEMENT = {COMPLETED: CAPTURED, FAILED: RELEASED, CANCELLED: RELEASED, EXPIRED: RELEASED}
END_CODES = {COMPLETED: 1, FAILED: 2, CANCELLED: 3, EXPIRED: 4}
END_OF_CODE = {code: status for status, code in END_CODES.items()}
POSITION_BITS = 44  # room for 17 trillion positions in a settled generation's integer
POSITION_MASK = (1 << POSITION_BITS) - 1


class Ledger:
    """An account as its events say it is."""

    __slots__ = (
        "balance",
        "disabled",
        "negative",
        "outstanding",
        "reserved",
        "user_id",
        "version",
        "window",
    )

    def __init__(self, user_id: str, tokens: int) -> None:
        self.user_id = user_id
        self.version = 1
        self.balance = tokens
        self.reserved = 0
        self.outstanding: dict[int, tuple[int, int]] = {}  # generation -> (amount, position)
        self.window: list[tuple[int, int]] = []  # recent acceptances (micros, position), by time
        self.disabled = False
        self.negative = False  # inside a stretch of negative availability (reported once)


class Life:
    """A generation that is not yet settled: still running, or missing half of its story.

    `status` is None while only its reservation has been seen (a submission saves the account's
    events before the generation's).
    """

    __slots__ = (
        "cost",
        "ended",
        "requested",
        "reservation",
        "reserved",
        "reserved_by",
        "resolution",
        "resolved",
        "status",
        "user_id",
        "version",
    )

    def __init__(self) -> None:
        self.status: str | None = None
        self.user_id = ""
        self.cost = 0
        self.version = 0
        self.requested = 0  # position of GenerationRequested
        self.ended = 0  # position of the end state
        self.reservation = 0  # position of TokensReserved
        self.reserved = 0  # amount reserved
        self.reserved_by = ""  # user id of the account that reserved it
        self.resolution: str | None = None  # CAPTURED or RELEASED
        self.resolved = 0  # position of the capture or release


Settled = int  # end code | resolution position << 4 | end position << (4 + POSITION_BITS)


def settled(status: str, ended: int, resolved: int) -> Settled:
    return END_CODES[status] | resolved << 4 | ended << (4 + POSITION_BITS)


def unpack(value: Settled) -> tuple[str, int, int]:
    """(end state, end position, resolution position) of a settled generation."""
    return END_OF_CODE[value & 15], value >> (4 + POSITION_BITS), (value >> 4) & POSITION_MASK


def generation(key: int) -> str:
    """How a violation names a generation."""
    return f"generation {UUID(int=key)}"


class ReplayState:
    """What every part of the replay reads and writes, and the rules that span two aggregates."""

    def __init__(self, decoder: EventDecoder, hourly_limit: int | None, queue_capacity: int):
        self.decoder = decoder
        self.hourly_limit = hourly_limit
        self.queue_capacity = queue_capacity
        self.found = Violations()
        self.tokens = TokenTotals()
        self.accounts: dict[int, Ledger] = {}
        self.generations: dict[int, Life | Settled] = {}
        self.pending: dict[int, int] = {}  # pending generation -> its request position, FIFO
        self.over_capacity = False  # inside a stretch of too many pending (reported once)
        self.queued: dict[int, int] = {}  # what the queue aggregate counts -> where it came in
        self.queue_version = 0
        self.names: dict[type[Any], str] = {}  # event class -> its short name
        # Set by a check that refused to apply the event it was given (an illegal transition,
        # an event of an aggregate never created): observers then do not see that event.
        self.rejected = False
        # The decoder's own method, bound once: asked for every event the replay reads.
        self.data: Callable[[LoggedEvent, type[Any]], dict[str, Any]] = decoder.data

    def flag(self, which: str, notification: LoggedEvent, message: str) -> None:
        """A violation about the aggregate of one event, shown by that event alone."""
        self.found.add(which, f"aggregate {notification.originator_id}", message, notification.id)

    def match(self, key: int, life: Life) -> None:
        """A generation and its reservation have both been seen: do they agree?"""
        if life.reserved != life.cost:
            self.found.add(
                rule.RESERVATION_AMOUNT,
                generation(key),
                f"reserved {life.reserved} tokens for a generation that costs {life.cost}",
                life.reservation,
                life.requested,
            )
        if life.reserved_by != life.user_id:
            self.found.add(
                rule.RESERVATION_ACCOUNT,
                generation(key),
                f"{life.user_id}'s generation reserved on {life.reserved_by}'s account",
                life.reservation,
                life.requested,
            )

    def settle_if_done(self, key: int, life: Life) -> None:
        """An ended generation whose tokens were captured or released: is that the right
        effect? Then it shrinks to one integer, since only a later event could still matter."""
        status = life.status
        if status not in SETTLEMENT or life.resolution is None or not life.reservation:
            return
        if SETTLEMENT[status] != life.resolution:
            self.found.add(
                rule.RESOLUTION_MISMATCH,
                generation(key),
                f"{life.resolution} but the generation ended {status}",
                life.ended,
                life.resolved,
            )
        self.generations[key] = settled(status, life.ended, life.resolved)
