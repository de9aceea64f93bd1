"""A background loop backs off while it fails and logs each change of state once."""

from __future__ import annotations

import logging

import pytest

from infrastructure.background import MAX_BACKOFF_SECONDS, PeriodicThread, backoff_seconds


def test_backoff_doubles_from_the_interval_up_to_the_cap() -> None:
    ceilings = [backoff_seconds(n, 0.25, draw=0.999999) for n in range(1, 10)]
    assert ceilings[:4] == pytest.approx([0.5, 1.0, 2.0, 4.0], rel=1e-5)
    assert max(ceilings) == pytest.approx(MAX_BACKOFF_SECONDS, rel=1e-5)
    assert backoff_seconds(10_000, 0.5, draw=0.999999) == pytest.approx(MAX_BACKOFF_SECONDS)


def test_backoff_is_jittered_over_the_upper_half() -> None:
    assert backoff_seconds(3, 0.5, draw=0.0) == pytest.approx(2.0)
    waits = {backoff_seconds(3, 0.5) for _ in range(50)}
    assert len(waits) > 1
    assert all(2.0 <= wait < 4.0 for wait in waits)


def test_a_failing_loop_logs_once_then_once_on_recovery(caplog: pytest.LogCaptureFixture) -> None:
    outcomes = [RuntimeError("store down")] * 5 + [True, False]

    def tick() -> bool:
        outcome = outcomes.pop(0)
        if isinstance(outcome, Exception):
            raise outcome
        return outcome

    loop = PeriodicThread("views", tick, interval=0.2)
    with caplog.at_level(logging.INFO, logger="infrastructure.background"):
        waits = [loop.run_tick() for _ in range(5)]
        assert loop.health.failures == 5
        assert loop.health.error == "RuntimeError: store down"
        assert loop.run_tick() == 0.0  # it did work: go again at once
        assert loop.run_tick() == 0.2  # idle: wait the interval
    assert loop.health.failures == 0
    assert loop.health.error is None
    assert all(wait >= 0.2 for wait in waits)
    assert waits[-1] > 0.2 * 2  # grew past the first ceiling
    messages = [record.getMessage() for record in caplog.records]
    assert len(messages) == 2
    assert messages[0].startswith("views failing, backing off")
    assert messages[1] == "views recovered after 5 failures"
