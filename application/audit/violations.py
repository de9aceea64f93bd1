"""What the audit can find wrong (a code per rule, as --json names it), and what it found."""

from __future__ import annotations

from collections import Counter
from dataclasses import asdict, dataclass, field
from typing import Any

NEGATIVE_AVAILABLE = "negative-available"  # balance - reserved below zero
RESERVED_TWICE = "reserved-twice"  # a second reservation for one generation
RESERVATION_AMOUNT = "reservation-amount"  # reserved amount differs from the generation's cost
RESERVATION_ACCOUNT = "reservation-account"  # reserved on an account that is not the owner's
RESERVATION_MISSING = "reservation-missing"  # a generation that never reserved its cost
RESERVATION_ORPHANED = "reservation-orphaned"  # a reservation for a generation never requested
RESERVED_WHILE_DISABLED = "reserved-while-disabled"
RESOLVED_TWICE = "resolved-twice"  # captured or released a second time
RESOLVED_UNRESERVED = "resolved-unreserved"  # captured or released with nothing reserved
RESOLUTION_AMOUNT = "resolution-amount"  # captured or released a different amount
RESOLUTION_MISMATCH = "resolution-mismatch"  # captured but not completed, released but completed
RESOLVED_EARLY = "resolved-early"  # captured or released before the generation ended
RESOLUTION_MISSING = "resolution-missing"  # ended, but its reservation is still held
REQUEST_RECORDED_TWICE = "request-recorded-twice"  # two generations from one request id
ILLEGAL_TRANSITION = "illegal-transition"  # including any transition out of an end state
RATE_LIMIT = "rate-limit"  # more acceptances in a rolling hour than MAX_REQUESTS_PER_HOUR
QUEUE_CAPACITY = "queue-capacity"  # more pending generations than QUEUE_MAX_SIZE
QUEUE_MISMATCH = "queue-mismatch"  # the queue aggregate disagrees with the generations
VERSION_GAP = "version-gap"  # an aggregate's versions skip (a deleted or lost event)
ORPHAN_EVENT = "orphan-event"  # an event of an aggregate that was never created
UNKNOWN_EVENT = "unknown-event"  # an event type the audit cannot vouch for
UNREADABLE_EVENT = "unreadable-event"  # a stored event that cannot be decoded
PROJECTION_MISMATCH = "projection-mismatch"  # a read model differs from the replayed state
PROJECTION_UNVERIFIED = "projection-unverified"  # a read model that could not be compared

WEBHOOK_MISSING = "webhook-message-missing"  # a subscribed generation event without its message
WEBHOOK_UNEXPECTED = "webhook-message-unexpected"  # a message no subscription called for
WEBHOOK_UNSETTLED = "webhook-message-unsettled"  # failed early, or pending and overdue

MAX_KEPT = 1_000  # details kept; beyond that only the count per rule grows


@dataclass(frozen=True)
class Violation:
    rule: str
    subject: str  # "account alice", "generation 6dc6...", "queue", "read model images"
    message: str
    positions: tuple[int, ...] = ()

    def as_dict(self) -> dict[str, Any]:
        return {**asdict(self), "positions": list(self.positions)}

    def __str__(self) -> str:
        where = ", ".join(str(p) for p in self.positions)
        label = "position" if len(self.positions) == 1 else "positions"
        at = f" ({label} {where})" if where else ""
        return f"[{self.rule}] {self.subject}: {self.message}{at}"


@dataclass
class Violations:
    """Every violation counted by rule; the first MAX_KEPT kept in full (memory stays bounded)."""

    kept: list[Violation] = field(default_factory=list)
    counts: Counter[str] = field(default_factory=Counter)
    limit: int = MAX_KEPT

    def add(self, rule: str, subject: str, message: str, *positions: int) -> None:
        self.counts[rule] += 1
        if len(self.kept) < self.limit:
            self.kept.append(Violation(rule, subject, message, tuple(sorted(set(positions)))))

    @property
    def total(self) -> int:
        return sum(self.counts.values())

    def __bool__(self) -> bool:
        return self.total > 0
