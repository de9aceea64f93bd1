"""`atelier audit` has a child process read the log while it checks: what the child gives is
exactly what the recorder holds, range after range; until the child is ready, and from wherever
it fails, the audit reads the log itself; and an audit that stops mid-range stops the child."""

from __future__ import annotations

import logging
import multiprocessing
import socket
import time
from collections.abc import Iterator, Sequence
from contextlib import closing, contextmanager
from pathlib import Path

import pytest

from application.audit.reading import LoggedEvent, log_batches
from application.service import Atelier
from bench.synthetic import HistoryShape, write_history
from infrastructure.audit.log_reader import SOCKET_BUFFER_BYTES, LogInChild
from infrastructure.bootstrap import build_application
from infrastructure.settings import Settings
from tests.audit_support import refuse_to_start_processes, wait_until_ready
from tests.conftest import SettingsFactory
from tests.support.lifecycle import submit
from tests.support.stores import sqlite_settings

BATCH = 7  # small batches: many of them, so a range spans the child's start and its failure


@contextmanager
def history(settings: Settings) -> Iterator[Atelier]:
    """An application whose log holds a few dozen events of every aggregate."""
    atelier = build_application(settings)
    try:
        for user in ("alice", "bob"):
            atelier.open_account(user, 50)
            for _ in range(4):
                submit(atelier, user)
        atelier.grant_tokens("alice", 5, "promo")
        yield atelier
    finally:
        atelier.close()


def flat(batches: Iterator[Sequence[LoggedEvent]]) -> list[LoggedEvent]:
    return [event for batch in batches for event in batch]


def here(atelier: Atelier, after: int, upto: int) -> list[LoggedEvent]:
    return flat(log_batches(atelier.recorder, after, upto, BATCH))


def test_the_child_reads_each_range_exactly_as_the_recorder_holds_it(
    make_settings: SettingsFactory,
) -> None:
    settings = make_settings()
    with history(settings) as atelier, LogInChild(settings, atelier.recorder, BATCH) as reader:
        head = atelier.recorder.max_notification_id() or 0
        batches = reader(0, head)  # asked at once: the child is not ready, this batch is read here
        early = list(next(batches))
        assert reader._connection is not None and reader._connection.poll(60)
        early += flat(batches)  # and the rest by the child, ready now
        assert reader._ready
        ranges = [(0, head), (3, 20), (20, head), (head, head + 50)]
        for after, upto in ranges:
            assert flat(reader(after, upto)) == here(atelier, after, upto)
        assert reader._process is not None and reader._process.is_alive()
        assert early == here(atelier, 0, head)
    assert len(early) == head > 4 * BATCH
    assert [event.id for event in early] == list(range(1, head + 1))
    assert early[0].originator_id.int == early[0].key


def test_the_childs_pipe_is_asked_to_hold_several_batches(make_settings: SettingsFactory) -> None:
    settings = make_settings()
    with history(settings) as atelier, LogInChild(settings, atelier.recorder, BATCH) as reader:
        assert reader._connection is not None
        fileno = reader._connection.fileno()
        with socket.fromfd(fileno, socket.AF_UNIX, socket.SOCK_STREAM) as ours:
            sending = ours.getsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF)
        # Linux grants at most its cap and reports twice what it granted; a socket nobody
        # widened reports net.core.wmem_default, at most the cap itself.
        cap = int(Path("/proc/sys/net/core/wmem_max").read_text())
        assert sending == 2 * min(SOCKET_BUFFER_BYTES, cap)
        head = atelier.recorder.max_notification_id() or 0
        assert flat(reader(0, head)) == here(atelier, 0, head)  # still a working pipe


def test_a_child_that_dies_mid_range_leaves_the_rest_to_be_read_here(
    make_settings: SettingsFactory, caplog: pytest.LogCaptureFixture
) -> None:
    settings = make_settings()
    atelier = build_application(settings)
    # More than the pipe and the receiving thread hold: the child is still sending when it
    # dies, and the rest must be read here.
    write_history(atelier, HistoryShape(users=20), events=3000)
    with (
        closing(atelier),
        LogInChild(settings, atelier.recorder, BATCH) as reader,
        caplog.at_level(logging.WARNING),
    ):
        head = atelier.recorder.max_notification_id() or 0
        wait_until_ready(reader)
        events: list[LoggedEvent] = []
        for number, batch in enumerate(reader(0, head)):
            events += batch
            if number == 1:
                reader._process.kill()  # the child dies with most of the range unread
        assert events == here(atelier, 0, head)
        assert reader._process is None  # given up on, and reaped
        assert flat(reader(0, head)) == events  # and every later range is read here
    assert "reading the log in a child process failed" in caplog.text


@pytest.mark.parametrize(
    ("store", "said"),
    [("without tables", "cannot read the log"), ("unreachable", "cannot open the store")],
)
def test_a_child_that_cannot_read_the_store_leaves_the_log_to_be_read_here(
    make_settings: SettingsFactory,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
    store: str,
    said: str,
) -> None:
    settings = make_settings()
    if store == "without tables":  # it starts, says it is ready, then cannot read
        elsewhere = sqlite_settings(tmp_path / "nothing-here")
    else:  # it says so before it is ever ready
        elsewhere = settings.model_copy(
            update={"persistence_module": "eventsourcing.postgres", "postgres_port": 1}
        )
    with (
        history(settings) as atelier,
        LogInChild(elsewhere, atelier.recorder, BATCH) as reader,
        caplog.at_level(logging.WARNING),
    ):
        head = atelier.recorder.max_notification_id() or 0
        deadline = time.monotonic() + 60
        while reader._connection is not None and time.monotonic() < deadline:
            assert flat(reader(0, head)) == here(atelier, 0, head)
            time.sleep(0.05)
        assert reader._connection is None  # given up on
        assert flat(reader(0, head)) == here(atelier, 0, head)
    assert said in caplog.text


def test_a_process_that_cannot_start_leaves_the_log_to_be_read_here(
    make_settings: SettingsFactory,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    refuse_to_start_processes(monkeypatch)
    settings = make_settings()
    with (
        history(settings) as atelier,
        caplog.at_level(logging.WARNING),
        LogInChild(settings, atelier.recorder, BATCH) as reader,
    ):
        head = atelier.recorder.max_notification_id() or 0
        assert flat(reader(0, head)) == here(atelier, 0, head)
    assert "cannot start a process to read the log" in caplog.text


def test_an_audit_that_stops_mid_range_stops_the_child(make_settings: SettingsFactory) -> None:
    settings = make_settings()
    with history(settings) as atelier, LogInChild(settings, atelier.recorder, BATCH) as reader:
        head = atelier.recorder.max_notification_id() or 0
        wait_until_ready(reader)
        child = reader._process
        batches = reader(0, head)
        next(batches)
        batches.close()  # what an exception in the replay does to the reading
        assert not child.is_alive()
        assert flat(reader(0, head)) == here(atelier, 0, head)
    assert multiprocessing.active_children() == []
