"""GeneratorCircuit: the circuit breaker in front of an image generator, one per generator name,
shared by every worker process of the store (docs/lifecycle.md, "The circuit breaker")."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Literal
from uuid import UUID, uuid5

from eventsourcing.domain import Aggregate, event

from domain.identifiers import ATELIER_NAMESPACE

CircuitState = Literal["closed", "open", "half-open"]
FAILURE_THRESHOLD = 5  # failed generations in a row that open the circuit
OPEN_FOR = timedelta(seconds=60)  # then half-open: one trial


def circuit_id(generator_name: str) -> UUID:
    return uuid5(ATELIER_NAMESPACE, f"/generators/{generator_name}/circuit")


class GeneratorCircuit(Aggregate):
    """Closed; open after FAILURE_THRESHOLD upstream failures in a row; half-open OPEN_FOR after
    opening, when one claimant's trial decides: success closes it, failure opens it again."""

    @staticmethod
    def create_id(generator_name: str) -> UUID:
        return circuit_id(generator_name)

    @event("Created")
    def __init__(self, generator_name: str) -> None:
        self.generator_name = generator_name
        self.failures = 0
        self.open_until: datetime | None = None
        self.trial_holder: str | None = None
        self.trial_started_at: datetime | None = None

    def state(self, now: datetime) -> CircuitState:
        if self.open_until is None:
            return "closed"
        return "open" if now < self.open_until else "half-open"

    def holds_trial(self, holder: str) -> bool:
        return self.trial_holder == holder

    def take_trial(self, holder: str, now: datetime, trial_timeout: timedelta) -> bool:
        """Half-open: `holder` becomes the one trial unless another's is in flight and fresh."""
        if self.state(now) != "half-open":
            return False
        if self.trial_holder == holder:
            return True
        started = self.trial_started_at
        if self.trial_holder is not None and started is not None and now < started + trial_timeout:
            return False
        self._trial_started(holder=holder, at=now)
        return True

    @event("TrialStarted")
    def _trial_started(self, holder: str, at: datetime) -> None:
        self.trial_holder = holder
        self.trial_started_at = at

    def record_failure(self, now: datetime) -> None:
        """An upstream failure; a failed trial, or the threshold reached, opens the circuit."""
        if self.open_until is not None and self.state(now) == "open":
            return  # already open: a call that began before it opened adds nothing
        if self.open_until is not None or self.failures + 1 >= FAILURE_THRESHOLD:
            self._opened(at=now, until=now + OPEN_FOR)
        else:
            self._failure_counted(at=now)

    @event("FailureCounted")
    def _failure_counted(self, at: datetime) -> None:
        self.failures += 1

    @event("Opened")
    def _opened(self, at: datetime, until: datetime) -> None:
        self.failures += 1
        self.open_until = until
        self.trial_holder = None
        self.trial_started_at = None

    def record_success(self, now: datetime) -> None:
        """A healthy upstream: failures forgotten, and the circuit closed if it was not."""
        if self.failures or self.open_until is not None:
            self._closed(at=now)

    @event("Closed")
    def _closed(self, at: datetime) -> None:
        self.failures = 0
        self.open_until = None
        self.trial_holder = None
        self.trial_started_at = None
