"""What an audit found: the counts an operator checks against finance, and every violation."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from application.audit.violations import Violations


@dataclass
class TokenTotals:
    granted: int = 0  # opening grants and grants
    reserved: int = 0  # reserved now, not yet captured or released
    captured: int = 0
    released: int = 0

    def as_dict(self) -> dict[str, int]:
        return asdict(self)


@dataclass(frozen=True)
class Comparison:
    name: str
    position: int | None  # the log position both were compared at; None: not compared
    differences: int
    note: str = ""

    def as_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "comparedAt": self.position,
            "differences": self.differences,
            "note": self.note,
        }


@dataclass
class AuditReport:
    """The result of replaying the log from its first event to `last_position`."""

    events: int
    first_position: int
    last_position: int
    accounts: int
    generations: int
    generation_statuses: dict[str, int]
    tokens: TokenTotals
    events_by_type: dict[str, int]
    violations: Violations
    hourly_limit: int | None
    queue_capacity: int
    projections: list[Comparison] = field(default_factory=list)

    @property
    def clean(self) -> bool:
        return not self.violations

    def as_dict(self) -> dict[str, Any]:
        """The `atelier audit --json` document."""
        return {
            "clean": self.clean,
            "events": self.events,
            "positions": {"first": self.first_position, "last": self.last_position},
            "accounts": self.accounts,
            "generations": {"total": self.generations, **self.generation_statuses},
            "tokens": self.tokens.as_dict(),
            "eventsByType": self.events_by_type,
            "limits": {"hourlyLimit": self.hourly_limit, "queueCapacity": self.queue_capacity},
            "projections": [comparison.as_dict() for comparison in self.projections],
            "violationCount": self.violations.total,
            "violationsByRule": dict(sorted(self.violations.counts.items())),
            "violations": [violation.as_dict() for violation in self.violations.kept],
        }
