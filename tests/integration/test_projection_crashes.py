"""Exactly once under failure and concurrency: a batch that fails changes nothing, a runner
killed mid-work and restarted misses nothing and applies nothing twice, and runners racing on
the same views (threads, processes) never apply an event twice. Checked by counting view rows
against the event log, and by comparing each view with a rebuild from the first event."""

from __future__ import annotations

import os
import signal
import subprocess
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from eventsourcing.utils import get_topic

from application.service import Atelier
from bench.synthetic import HistoryShape, write_history
from domain.accounts import TokenAccount
from infrastructure.projections.catch_up import catch_up
from infrastructure.projections.read_models import ReadModels
from infrastructure.projections.writes import Params
from tests.conftest import SettingsFactory
from tests.support.clock import Clock
from tests.support.read_side import application, catch_up_all, event_counts, generation_statuses
from tests.support.servers import atelier_command
from tests.support.stores import settings_env

DEADLINE_SECONDS = 120


class Boom(Exception):
    """Raised on purpose in the middle of a batch."""


def assert_views_match_the_log(atelier: Atelier, models: ReadModels) -> None:
    """Row counts that follow from the log alone, then each view against a rebuild of itself."""
    head = atelier.recorder.max_notification_id()
    assert [status.position for status in models.status()] == [head] * len(models.views)
    events = event_counts(atelier)
    statuses = generation_statuses(atelier)
    contents = {name: view.contents() for name, view in models.views.items()}
    assert len(contents["user_generations"]["user_generations"]) == events["GenerationRequested"]
    assert len(contents["images"]["files"]) == events["ImageLinked"]
    assert len(contents["images"]["file_owners"]) == events["GenerationRequested"]
    waiting = statuses["pending"] + statuses["processing"]
    assert len(contents["pending_queue"]["pending_queue"]) == waiting
    assert models.dashboard.totals().generations == {
        status: statuses[status]
        for status in ("pending", "processing", "completed", "failed", "cancelled", "expired")
    }
    for name, view in models.views.items():
        view.reset()
        catch_up(atelier, view)
        assert view.contents() == contents[name], f"{name} differs from its rebuild"


@pytest.fixture
def history(make_settings: SettingsFactory) -> Iterator[tuple[Atelier, ReadModels]]:
    """A store holding a few thousand events of realistic history, views not yet built."""
    settings = make_settings()
    with application(settings, Clock()) as (atelier, models):
        write_history(atelier, HistoryShape(users=40), events=3000, batch_size=500)
        yield atelier, models


def test_a_handler_that_raises_mid_batch_leaves_its_view_as_it_was(
    history: tuple[Atelier, ReadModels],
) -> None:
    atelier, models = history
    view = models.views["dashboard_totals"]
    catch_up(atelier, view, batch_size=100, until=400)  # part way: some rows exist already
    before = (view.position(), view.contents())
    projection = view.projection
    handlers = dict(projection.handlers)
    seen = 0

    def explode_on_the_fifth(event: Any, position: int, writes: Any) -> None:
        nonlocal seen
        seen += 1
        if seen == 5:
            raise Boom
        handlers[reserved](event, position, writes)

    reserved = get_topic(TokenAccount.TokensReserved)  # frequent all through the history
    projection.handlers = {**handlers, reserved: explode_on_the_fifth}
    with pytest.raises(Boom):
        catch_up(atelier, view, batch_size=100_000)
    assert (view.position(), view.contents()) == before

    assert seen == 5
    projection.handlers = handlers  # the fault is fixed: the runner starts again
    catch_up_all(atelier, models, batch_size=250)
    assert_views_match_the_log(atelier, models)


def test_a_batch_that_fails_inside_its_transaction_is_rolled_back_whole(
    history: tuple[Atelier, ReadModels],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    atelier, models = history
    view = models.views["user_generations"]
    catch_up(atelier, view, batch_size=50, until=600)
    before = (view.position(), view.contents())
    execute_runs = view._execute_runs

    def write_some_then_fail(cursor: Any, runs: Iterator[tuple[str, list[Params]]]) -> None:
        first = next(runs)
        execute_runs(cursor, iter([first]))  # rows written in the open transaction...
        raise Boom  # ...then the process "dies" before commit

    monkeypatch.setattr(view, "_execute_runs", write_some_then_fail)
    with pytest.raises(Boom):
        catch_up(atelier, view, batch_size=200)
    assert (view.position(), view.contents()) == before

    monkeypatch.undo()
    catch_up_all(atelier, models, batch_size=64)
    assert_views_match_the_log(atelier, models)


def test_runners_racing_in_threads_apply_each_event_exactly_once(
    history: tuple[Atelier, ReadModels],
) -> None:
    atelier, models = history
    errors: list[BaseException] = []
    barrier = threading.Barrier(4)

    def race(batch_size: int) -> None:
        try:
            barrier.wait()
            catch_up_all(atelier, models, batch_size=batch_size)
        except BaseException as error:  # reported by the assertion below
            errors.append(error)

    threads = [threading.Thread(target=race, args=(size,)) for size in (7, 13, 50, 200)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert_views_match_the_log(atelier, models)


def test_a_runner_stopped_mid_catch_up_and_started_again_applies_each_event_once(
    history: tuple[Atelier, ReadModels],
) -> None:
    atelier, models = history
    head = atelier.recorder.max_notification_id()
    first = models.runner(batch_size=5, poll_interval=0.01)
    first.start()
    try:
        wait_for(lambda: max(positions(models)) > 0, "the runner to commit a batch")
    finally:
        first.stop()  # between two batches, with most of the log still to do
    stopped_at = positions(models)
    assert min(stopped_at) < head

    second = models.runner(batch_size=64, poll_interval=0.01)
    second.start()
    try:
        wait_for(lambda: positions(models) == [head] * len(models.views), "the head")
    finally:
        second.stop()
    assert_views_match_the_log(atelier, models)


def test_two_runners_sharing_reads_while_the_log_grows_apply_each_event_once(
    history: tuple[Atelier, ReadModels],
) -> None:
    """Runners step their views together with one read per batch; two of them racing, with
    history still being written, must still leave every view equal to its rebuild."""
    atelier, models = history
    runners = [models.runner(batch_size=size, poll_interval=0.005) for size in (9, 31)]
    for runner in runners:
        runner.start()
    try:
        for n in range(300):  # the log grows while both runners follow it
            atelier.open_account(f"late-{n}", 3)
            atelier.grant_tokens(f"late-{n}", 2, "while racing")
        head = atelier.recorder.max_notification_id()
        wait_for(lambda: positions(models) == [head] * len(models.views), "the head")
    finally:
        for runner in runners:
            runner.stop()
    assert_views_match_the_log(atelier, models)


def positions(models: ReadModels) -> list[int]:
    return [status.position for status in models.status()]


def wait_for(condition: Any, what: str) -> None:
    """Poll `condition` until it holds; fail the test if it does not within the deadline."""
    deadline = time.monotonic() + DEADLINE_SECONDS
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail(f"timed out waiting for {what}")
        time.sleep(0.01)


@pytest.mark.slow
def test_a_killed_runner_process_restarted_beside_another_misses_and_repeats_nothing(
    make_settings: SettingsFactory, tmp_path: Path
) -> None:
    settings = make_settings()
    env = {
        **os.environ,
        **settings_env(settings),
        "PROJECTIONS_BATCH_SIZE": "10",  # many small transactions: the kill lands mid-work
        "PROJECTIONS_POLL_SECONDS": "0.01",
    }
    with application(settings, Clock()) as (atelier, models):
        write_history(atelier, HistoryShape(users=40), events=4000, batch_size=1000)
        head = atelier.recorder.max_notification_id()

        victim = subprocess.Popen(
            atelier_command("projections", "run"),
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            wait_for(lambda: max(positions(models)) > 0, "the runner to commit a batch")
        finally:
            victim.send_signal(signal.SIGKILL)
            victim.wait()
        assert min(positions(models)) < head  # it died with work left to do

        logs = [tmp_path / f"survivor-{n}.log" for n in range(2)]  # said if one fails
        survivors = []
        for log in logs:
            with log.open("wb") as stderr:
                survivors.append(
                    subprocess.Popen(
                        atelier_command("projections", "run"),
                        env=env,
                        stdout=subprocess.DEVNULL,
                        stderr=stderr,
                    )
                )
        try:
            wait_for(lambda: positions(models) == [head] * len(models.views), "the head")
        finally:
            for process in survivors:
                process.send_signal(signal.SIGTERM)
            for process, log in zip(survivors, logs, strict=True):
                assert process.wait(timeout=30) == 0, log.read_text()[-3000:]
        assert_views_match_the_log(atelier, models)
