"""GenerationQueue as a table over every (state, command) pair, read from API.md: at most
QUEUE_MAX_SIZE pending (over it 503 QUEUE_FULL), positions 1-based FIFO, and a generation
leaves the queue when it is claimed, cancelled or expired."""

from __future__ import annotations

from collections.abc import Callable
from uuid import uuid4

import pytest

from domain.errors import DomainError, InvalidTransition, QueueFull
from domain.queue import GenerationQueue
from tests.support.clock import T0

CAPACITY = 2
STATES = {"empty": 0, "non-empty": 1, "full": CAPACITY}  # pending generations in each

COMMANDS: dict[str, Callable[[GenerationQueue], object]] = {
    "admit": lambda q: q.admit(uuid4(), CAPACITY, T0),
    "leave claimed": lambda q: q.leave(uuid4(), "claimed", T0),
    "leave cancelled": lambda q: q.leave(uuid4(), "cancelled", T0),
    "leave expired": lambda q: q.leave(uuid4(), "expired", T0),
    "check room": lambda q: q.check_room(CAPACITY),
}
# (state, command) -> (pending after, answer, events recorded), or the refusal.
Outcome = tuple[int, object, list[str]] | type[DomainError]
LEFT = "GenerationLeftQueue"
TABLE: dict[tuple[str, str], Outcome] = {
    ("empty", "admit"): (1, 1, ["GenerationQueued"]),
    ("empty", "leave claimed"): InvalidTransition,
    ("empty", "leave cancelled"): InvalidTransition,
    ("empty", "leave expired"): InvalidTransition,
    ("empty", "check room"): (0, None, []),
    ("non-empty", "admit"): (2, 2, ["GenerationQueued"]),
    ("non-empty", "leave claimed"): (0, None, [LEFT]),
    ("non-empty", "leave cancelled"): (0, None, [LEFT]),
    ("non-empty", "leave expired"): (0, None, [LEFT]),
    ("non-empty", "check room"): (1, None, []),
    ("full", "admit"): QueueFull,
    ("full", "leave claimed"): (1, None, [LEFT]),
    ("full", "leave cancelled"): (1, None, [LEFT]),
    ("full", "leave expired"): (1, None, [LEFT]),
    ("full", "check room"): QueueFull,
}


def in_state(state: str) -> GenerationQueue:
    queue = GenerationQueue()
    for _ in range(STATES[state]):
        queue.admit(uuid4(), CAPACITY, T0)
    queue.collect_events()
    return queue


def test_the_table_covers_every_pair() -> None:
    assert set(TABLE) == {(state, command) for state in STATES for command in COMMANDS}


@pytest.mark.parametrize(("state", "command"), list(TABLE))
def test_each_command_in_each_state(state: str, command: str) -> None:
    queue = in_state(state)
    expected = TABLE[(state, command)]
    if isinstance(expected, type):
        with pytest.raises(expected):
            COMMANDS[command](queue)
        assert queue.pending == STATES[state]
        assert queue.collect_events() == []
        return
    pending, answer, events = expected
    assert COMMANDS[command](queue) == answer
    assert queue.pending == pending
    recorded = queue.collect_events()
    assert [type(e).__name__ for e in recorded] == events
    if events == [LEFT]:
        assert recorded[0].reason == command.removeprefix("leave ")  # type: ignore[attr-defined]


def test_queue_admits_up_to_capacity_with_exact_positions() -> None:
    queue = GenerationQueue()
    positions = [queue.admit(uuid4(), capacity=3, at=T0) for _ in range(3)]
    assert positions == [1, 2, 3]
    with pytest.raises(QueueFull):
        queue.admit(uuid4(), capacity=3, at=T0)
    queue.leave(uuid4(), "claimed", T0)
    assert queue.admit(uuid4(), capacity=3, at=T0) == 3


def test_a_requeue_is_taken_back_past_capacity_and_then_admissions_wait() -> None:
    """An accepted generation is never lost for want of room (docs/lifecycle.md)."""
    queue = GenerationQueue()
    queue.admit(uuid4(), 1, T0)
    queue.requeue(uuid4(), T0)
    assert (queue.pending, queue.requeues) == (2, 1)
    with pytest.raises(QueueFull):
        queue.admit(uuid4(), 1, T0)
    assert [type(e).__name__ for e in queue.collect_events()][-1] == "GenerationRequeued"
