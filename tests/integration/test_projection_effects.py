"""Followers beside the views: a tracked effect stores each event's messages exactly once while
runners race, then delivers them; a follower that fails backs off alone and says where."""

from __future__ import annotations

import threading
from collections.abc import Iterable, Iterator
from functools import partial
from typing import Any

import pytest
from eventsourcing.utils import get_topic

from application.service import Atelier
from bench.synthetic import HistoryShape, write_history
from domain.accounts import TokenAccount
from domain.generations import Generation
from infrastructure.projections.catch_up import catch_up
from infrastructure.projections.effects import EffectHandler, Message, Outgoing, TrackedEffect
from infrastructure.projections.read_models import ReadModels, view_on
from infrastructure.projections.runner import ProjectionRunner
from infrastructure.projections.table_projection import on
from tests.conftest import SettingsFactory
from tests.integration.test_projection_crashes import assert_views_match_the_log, wait_for
from tests.support.clock import Clock
from tests.support.read_side import application


class Receipts(TrackedEffect):
    """A stand-in for a webhook: one message per reservation, two per accepted generation."""

    name = "receipts"

    def event_handlers(self) -> Iterable[tuple[str, EffectHandler]]:
        return (
            on(TokenAccount.TokensReserved, self._reserved),
            on(Generation.GenerationRequested, self._requested),
        )

    def _reserved(self, event: TokenAccount.TokensReserved, position: int) -> list[Message]:
        return [{"reserved": event.amount, "generation": event.generation_id}]

    def _requested(self, event: Generation.GenerationRequested, position: int) -> list[Message]:
        return [{"requested": str(event.originator_id)}, {"position": position}]


def receipts(atelier: Atelier) -> Receipts:
    effect = Receipts(partial(view_on, atelier))
    effect.create_table()
    return effect


def positions_of(atelier: Atelier, *event_classes: type[Any]) -> list[int]:
    topics = [get_topic(cls) for cls in event_classes]
    notes = atelier.recorder.select_notifications(start=None, limit=10_000_000, topics=topics)
    return [note.id for note in notes]


def expected_messages(atelier: Atelier) -> list[tuple[int, int]]:
    """(position, index) of every message the log calls for, in log order."""
    reserved = set(positions_of(atelier, TokenAccount.TokensReserved))
    return sorted(
        (position, index)
        for position in positions_of(
            atelier, TokenAccount.TokensReserved, Generation.GenerationRequested
        )
        for index in ((0,) if position in reserved else (0, 1))
    )


@pytest.fixture
def history(make_settings: SettingsFactory) -> Iterator[tuple[Atelier, ReadModels]]:
    with application(make_settings(), Clock()) as (atelier, models):
        write_history(atelier, HistoryShape(users=20), events=1500, batch_size=500)
        yield atelier, models


def test_runners_racing_on_an_effect_store_each_message_once_then_deliver_it(
    history: tuple[Atelier, ReadModels],
) -> None:
    atelier, _ = history
    effect = receipts(atelier)
    runners = [ProjectionRunner(atelier, [effect], size, 0.005) for size in (7, 40)]
    for runner in runners:
        runner.start()
    try:
        for n in range(40):  # the log grows while both runners follow it
            atelier.open_account(f"late-{n}", 3)
            atelier.grant_tokens(f"late-{n}", 2, "while racing")
        head = atelier.recorder.max_notification_id() or 0
        wait_for(lambda: effect.position() == head, "the head")
    finally:
        for runner in runners:
            runner.stop()

    expected = expected_messages(atelier)
    stored = [(m.position, m.index) for m in effect.pending(limit=1_000_000)]
    assert stored == expected  # none missing, none twice (the table's key would refuse a twin)

    delivered: list[Outgoing] = []
    while effect.deliver(delivered.append, limit=100):
        pass
    assert [(m.position, m.index) for m in delivered] == expected
    assert effect.pending() == []
    seconds = [m for m in delivered if m.index == 1]  # what the handler said, stored as said
    assert seconds and all(m.message == {"position": m.position} for m in seconds)


def test_threads_racing_catch_up_on_an_effect_store_each_message_once(
    history: tuple[Atelier, ReadModels],
) -> None:
    atelier, _ = history
    effect = receipts(atelier)
    barrier = threading.Barrier(3)
    errors: list[BaseException] = []

    def race(batch_size: int) -> None:
        try:
            barrier.wait()
            catch_up(atelier, effect, batch_size)
        except BaseException as error:  # reported by the assertion below
            errors.append(error)

    threads = [threading.Thread(target=race, args=(size,)) for size in (5, 17, 300)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    stored = [(m.position, m.index) for m in effect.pending(limit=1_000_000)]
    assert stored == expected_messages(atelier)


def test_a_delivery_that_fails_leaves_that_message_and_the_later_ones_pending(
    history: tuple[Atelier, ReadModels],
) -> None:
    atelier, _ = history
    effect = receipts(atelier)
    catch_up(atelier, effect)
    expected = expected_messages(atelier)
    sent: list[Outgoing] = []

    def send_two_then_fail(outgoing: Outgoing) -> None:
        if len(sent) == 2:
            raise ConnectionError("receiver down")
        sent.append(outgoing)

    with pytest.raises(ConnectionError):
        effect.deliver(send_two_then_fail)
    assert [(m.position, m.index) for m in effect.pending(limit=1_000_000)] == expected[2:]


class Broken(Exception):
    """The fault a follower meets on one event."""


class BreaksOnGenerations:
    """A follower that fails on the first generation event it meets, until it is fixed."""

    name = "breaks_on_generations"

    def __init__(self, inner: Receipts) -> None:
        self.inner = inner
        self.topics = inner.topics
        self.broken = True

    def position(self) -> int:
        return self.inner.position()

    def apply(self, events: Iterable[tuple[str, Any, int]], expected: int, reached: int) -> None:
        batch = list(events)
        if self.broken and any("Generation" in topic for topic, _, _ in batch):
            raise Broken("cannot read this event")
        self.inner.apply(batch, expected, reached)


def test_a_failing_follower_backs_off_alone_and_says_where_it_stands(
    history: tuple[Atelier, ReadModels],
) -> None:
    atelier, models = history
    failing = BreaksOnGenerations(receipts(atelier))
    runner = ProjectionRunner(atelier, [failing, *models.views.values()], 50, 0.005)
    head = atelier.recorder.max_notification_id() or 0
    runner.start()
    try:
        wait_for(lambda: {s.position for s in models.status()} == {head}, "the views' head")
        wait_for(lambda: runner.follower_health()[failing.name].failures >= 2, "two failures")
        health = runner.follower_health()[failing.name]
        assert health.error == "Broken: cannot read this event"
        assert health.position == failing.position() < head
        assert runner.health.failures == 0  # the runner itself, and every view, are fine
        assert all(runner.follower_health()[name].failures == 0 for name in models.views)
        failing.broken = False  # the fault is fixed: it catches up on its next retry
        wait_for(lambda: failing.position() == head, "the fixed follower's head")
        wait_for(lambda: runner.follower_health()[failing.name].failures == 0, "recovery")
    finally:
        runner.stop()
    assert_views_match_the_log(atelier, models)
    stored = [(m.position, m.index) for m in failing.inner.pending(limit=1_000_000)]
    assert stored == expected_messages(atelier)
