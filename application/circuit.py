"""The generator's circuit breaker as use cases: read by claims and the stats, written by the
outcome of each generation (docs/lifecycle.md, "The circuit breaker")."""

from __future__ import annotations

from eventsourcing.application import AggregateNotFoundError

from application.base import AtelierBase
from application.retries import retry_on_conflict
from domain.circuit import CircuitState, GeneratorCircuit, circuit_id


class CircuitUseCases(AtelierBase):
    def generator_circuit(self, generator_name: str) -> CircuitState:
        """`closed` until a failure was ever recorded; what /api/admin/stats and /metrics show."""
        circuit = self._load_circuit(generator_name)
        return "closed" if circuit is None else circuit.state(self.clock())

    def may_claim(self, generator_name: str, holder: str) -> bool:
        """Closed; or half-open and `holder` is (or now becomes) its one trial."""
        circuit = self._load_circuit(generator_name)
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
        Writes only when the circuit changes, so a healthy generator costs one read."""

        def decide_and_save() -> None:
            now = self.clock()
            circuit = self._load_circuit(generator_name)
            if circuit is None:
                if upstream_healthy:
                    return
                circuit = GeneratorCircuit(generator_name)
            if upstream_healthy:
                circuit.record_success(now)
            else:
                circuit.record_failure(now)
            self.save(circuit)

        retry_on_conflict(decide_and_save)

    def _load_circuit(self, generator_name: str) -> GeneratorCircuit | None:
        try:
            circuit: GeneratorCircuit = self.repository.get(circuit_id(generator_name))
        except AggregateNotFoundError:
            return None
        return circuit
