"""The plan's CircuitBreaker: open after 5 failures, half-open after 60 s, one trial at a time."""

from __future__ import annotations

import pytest

from infrastructure.generators.circuit_breaker import CircuitBreaker, CircuitOpen
from tests.support.clock import Clock


def boom() -> None:
    raise RuntimeError("upstream down")


def fail_times(breaker: CircuitBreaker, times: int) -> None:
    for _ in range(times):
        with pytest.raises(RuntimeError):
            breaker.call(boom)


def test_four_failures_leave_it_closed_and_the_fifth_opens_it() -> None:
    breaker = CircuitBreaker(clock=Clock().monotonic)
    fail_times(breaker, 4)
    assert breaker.state == "closed" and breaker.is_available()
    fail_times(breaker, 1)
    assert breaker.state == "open" and not breaker.is_available()


def test_an_open_breaker_refuses_without_calling() -> None:
    breaker = CircuitBreaker(clock=Clock().monotonic)
    fail_times(breaker, 5)
    calls: list[int] = []
    with pytest.raises(CircuitOpen) as refused:
        breaker.call(lambda: calls.append(1))
    assert calls == []
    assert refused.value.retry_in_seconds == pytest.approx(60)


def test_after_sixty_seconds_one_trial_goes_through_and_success_closes() -> None:
    clock = Clock()
    breaker = CircuitBreaker(clock=clock.monotonic)
    fail_times(breaker, 5)
    clock.advance(seconds=59.9)
    assert breaker.state == "open"
    clock.advance(seconds=0.1)
    assert breaker.state == "half-open" and breaker.is_available()
    breaker.before_call()  # the trial is in flight...
    assert not breaker.is_available()
    with pytest.raises(CircuitOpen):
        breaker.before_call()  # ...so a second caller is refused
    breaker.record_success()
    assert breaker.state == "closed" and breaker.failures == 0


def test_a_failed_trial_opens_it_for_another_sixty_seconds() -> None:
    clock = Clock()
    breaker = CircuitBreaker(clock=clock.monotonic)
    fail_times(breaker, 5)
    clock.advance(seconds=60)
    fail_times(breaker, 1)
    assert breaker.state == "open"
    clock.advance(seconds=59)
    assert breaker.state == "open"
    clock.advance(seconds=1)
    assert breaker.state == "half-open"


def test_a_success_forgets_earlier_failures() -> None:
    breaker = CircuitBreaker(clock=Clock().monotonic)
    fail_times(breaker, 4)
    assert breaker.call(lambda: "ok") == "ok"
    fail_times(breaker, 4)
    assert breaker.state == "closed"
