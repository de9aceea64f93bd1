"""The generator's circuit breaker as use cases: read by claims and the stats, written by the
outcome of each generation (docs/lifecycle.md, "The circuit breaker")."""

from __future__ import annotations

import time
from typing import Any

from eventsourcing.application import AggregateNotFoundError

from application.base import AtelierBase
from application.retries import retry_on_conflict
from domain.circuit import CircuitState, GeneratorCircuit, circuit_id

CLEAN_FOR_SECONDS = 1.0  # how long a closed circuit with no failures is taken as still so


class CircuitUseCases(AtelierBase):
    """A process remembers for CLEAN_FOR_SECONDS that a circuit was closed with no failures,
    sparing a read per claim and per success; another process's opening reaches it within
    that second (docs/lifecycle.md, "The circuit breaker")."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._clean_until: dict[str, float] = {}  # generator name -> monotonic deadline

    def _seen_clean(self, generator_name: str) -> bool:
        return time.monotonic() < self._clean_until.get(generator_name, 0.0)

    def _note_clean(self, generator_name: str, circuit: GeneratorCircuit | None) -> None:
        if circuit is None or (circuit.failures == 0 and circuit.open_until is None):
            self._clean_until[generator_name] = time.monotonic() + CLEAN_FOR_SECONDS
        else:
            self._clean_until.pop(generator_name, None)

    def generator_circuit(self, generator_name: str) -> CircuitState:
        """`closed` until a failure was ever recorded; what /api/admin/stats and /metrics show."""
        circuit = self._load_circuit(generator_name)
        return "closed" if circuit is None else circuit.state(self.clock())

    def may_claim(self, generator_name: str, holder: str) -> bool:
        """Closed; or half-open and `holder` is (or now becomes) its one trial."""
        if self._seen_clean(generator_name):
            return True
        circuit = self._load_circuit(generator_name)
        self._note_clean(generator_name, circuit)
        if circuit is None:
            return True
        state = circuit.state(self.clock())
        if state != "half-open":
            return state == "closed"
        if circuit.holds_trial(holder):
            return True

        def take_trial() -> bool:
            fresh = self._load_circuit(generator_name)
            if fresh is None:
                return True
            taken = fresh.take_trial(holder, self.clock(), self.policy.lease)
            self.save(fresh)  # nothing when another's fresh trial is in flight
            return taken

        return retry_on_conflict(take_trial)

    def record_generator_outcome(self, generator_name: str, upstream_healthy: bool) -> None:
        """A success closes the circuit; an upstream failure counts towards opening it.
        Writes only when the circuit changes, so a healthy generator costs at most a read."""
        if upstream_healthy and self._seen_clean(generator_name):
            return

        def decide_and_save() -> GeneratorCircuit | None:
            now = self.clock()
            circuit = self._load_circuit(generator_name)
            if circuit is None:
                if upstream_healthy:
                    return None
                circuit = GeneratorCircuit(generator_name)
            if upstream_healthy:
                circuit.record_success(now)
            else:
                circuit.record_failure(now)
            self.save(circuit)
            return circuit

        self._note_clean(generator_name, retry_on_conflict(decide_and_save))

    def _load_circuit(self, generator_name: str) -> GeneratorCircuit | None:
        try:
            circuit: GeneratorCircuit = self.repository.get(circuit_id(generator_name))
        except AggregateNotFoundError:
            return None
        return circuit
