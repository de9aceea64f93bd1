"""GeneratorCircuit: closed, open after five upstream failures in a row, half-open with one
trial, closed again by a success; time comes in as an argument."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from domain.circuit import FAILURE_THRESHOLD, OPEN_FOR, GeneratorCircuit

T0 = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
TRIAL_TIMEOUT = timedelta(minutes=10)


def opened() -> GeneratorCircuit:
    circuit = GeneratorCircuit("openai")
    for _ in range(FAILURE_THRESHOLD):
        circuit.record_failure(T0)
    return circuit


def names(circuit: GeneratorCircuit) -> list[str]:
    return [type(event).__name__ for event in circuit.collect_events()]


def test_failures_below_the_threshold_leave_it_closed_and_a_success_forgets_them() -> None:
    circuit = GeneratorCircuit("openai")
    for _ in range(FAILURE_THRESHOLD - 1):
        circuit.record_failure(T0)
    assert circuit.state(T0) == "closed"
    circuit.record_success(T0)
    for _ in range(FAILURE_THRESHOLD - 1):
        circuit.record_failure(T0)
    assert circuit.state(T0) == "closed"  # not five in a row


def test_the_fifth_failure_in_a_row_opens_it_for_a_while_then_it_is_half_open() -> None:
    circuit = opened()
    assert names(circuit)[-1] == "Opened"
    assert circuit.state(T0 + OPEN_FOR - timedelta(seconds=1)) == "open"
    assert circuit.state(T0 + OPEN_FOR) == "half-open"


def test_a_failure_while_open_changes_nothing() -> None:
    circuit = opened()
    circuit.collect_events()
    circuit.record_failure(T0 + timedelta(seconds=1))
    assert names(circuit) == []
    assert circuit.state(T0 + OPEN_FOR) == "half-open"


def test_no_trial_while_open_and_exactly_one_while_half_open() -> None:
    circuit = opened()
    assert not circuit.take_trial("a#1", T0, TRIAL_TIMEOUT)
    later = T0 + OPEN_FOR
    assert circuit.take_trial("a#1", later, TRIAL_TIMEOUT)
    assert circuit.take_trial("a#1", later, TRIAL_TIMEOUT)  # still its own
    assert not circuit.take_trial("b#1", later, TRIAL_TIMEOUT)
    assert circuit.holds_trial("a#1") and not circuit.holds_trial("b#1")


def test_a_trial_whose_holder_went_quiet_is_taken_over() -> None:
    circuit = opened()
    circuit.take_trial("a#1", T0 + OPEN_FOR, TRIAL_TIMEOUT)
    assert circuit.take_trial("b#1", T0 + OPEN_FOR + TRIAL_TIMEOUT, TRIAL_TIMEOUT)
    assert circuit.holds_trial("b#1")


def test_a_failed_trial_opens_it_again_and_a_successful_one_closes_it() -> None:
    circuit = opened()
    trial_at = T0 + OPEN_FOR
    circuit.take_trial("a#1", trial_at, TRIAL_TIMEOUT)
    circuit.record_failure(trial_at)
    assert circuit.state(trial_at) == "open"
    assert circuit.trial_holder is None
    again = trial_at + OPEN_FOR
    circuit.take_trial("b#1", again, TRIAL_TIMEOUT)
    circuit.record_success(again)
    assert circuit.state(again) == "closed"
    assert (circuit.failures, circuit.trial_holder) == (0, None)


def test_a_success_on_a_clean_circuit_records_nothing() -> None:
    circuit = GeneratorCircuit("openai")
    circuit.collect_events()
    circuit.record_success(T0)
    assert names(circuit) == []
