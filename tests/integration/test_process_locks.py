"""The queue mutex excludes threads and processes from each other, and its loss only costs
speed: writers then race and the version check decides."""

from __future__ import annotations

import multiprocessing
import threading
import time
from pathlib import Path

import pytest

from infrastructure.locks.leadership import leadership
from infrastructure.locks.queue_mutex import FileQueueMutex, PostgresQueueMutex, queue_mutex
from infrastructure.locks.session import LockSession, advisory_key
from infrastructure.settings import Settings
from tests.conftest import SettingsFactory
from tests.support.stores import postgres_schema, postgres_settings, sqlite_settings

HOLDS = 20


def _hold_repeatedly(settings: Settings, log: str, name: str) -> None:
    """Enter the mutex HOLDS times, writing enter/leave marks to a shared log inside it."""
    mutex = queue_mutex(settings)
    assert mutex is not None
    for _ in range(HOLDS):
        with mutex, Path(log).open("a") as marks:
            marks.write(f"{name} enter\n")
            marks.flush()
            time.sleep(0.002)
            marks.write(f"{name} leave\n")


def assert_never_interleaved(log: Path, holders: int) -> None:
    lines = log.read_text().splitlines()
    assert len(lines) == 2 * HOLDS * holders
    for enter, leave in zip(lines[::2], lines[1::2], strict=True):
        name = enter.split()[0]
        assert (enter, leave) == (f"{name} enter", f"{name} leave")


def test_processes_and_threads_take_turns(make_settings: SettingsFactory, tmp_path: Path) -> None:
    settings = make_settings()
    log = tmp_path / "marks.log"
    spawn = multiprocessing.get_context("spawn")
    processes = [
        spawn.Process(target=_hold_repeatedly, args=(settings, str(log), f"p{n}")) for n in range(3)
    ]
    for process in processes:
        process.start()
    threads = [
        threading.Thread(target=_hold_repeatedly, args=(settings, str(log), f"t{n}"))
        for n in range(2)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    for process in processes:
        process.join(timeout=60)
        assert process.exitcode == 0
    assert_never_interleaved(log, holders=5)


def test_each_store_gets_its_own_kind_of_mutex(make_settings: SettingsFactory) -> None:
    settings = make_settings()
    expected = (
        FileQueueMutex if settings.persistence_module.endswith("sqlite") else (PostgresQueueMutex)
    )
    assert isinstance(queue_mutex(settings), expected)


def test_an_unreachable_lock_server_degrades_to_racing_writers(tmp_path: Path) -> None:
    settings = sqlite_settings(tmp_path).model_copy(update={"postgres_port": 1})
    mutex = PostgresQueueMutex(settings)
    entered = []
    with mutex:  # cannot connect: logs, and lets the writer through
        entered.append(True)
    with mutex:
        entered.append(True)
    assert entered == [True, True]


def test_separate_schemas_do_not_block_each_other() -> None:
    assert advisory_key("public") != advisory_key("tenant_b")
    assert advisory_key("public") == advisory_key("public")


def test_a_file_mutex_excludes_threads_of_one_process(tmp_path: Path) -> None:
    mutex = FileQueueMutex(tmp_path / "q.lock")
    inside = []
    overlaps = []

    def hold() -> None:
        for _ in range(HOLDS):
            with mutex:
                inside.append(1)
                if len(inside) > 1:
                    overlaps.append(1)
                time.sleep(0.001)
                inside.pop()

    threads = [threading.Thread(target=hold) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert overlaps == []


def test_one_process_leads_and_another_takes_over_when_it_stops(
    make_settings: SettingsFactory,
) -> None:
    settings = make_settings()
    first, second = leadership(settings, "projections"), leadership(settings, "projections")
    assert first is not None and second is not None
    assert first.leads()
    assert first.leads()  # keeps the lead
    assert not second.leads()
    first.release()
    assert second.leads()
    assert not first.leads()
    second.release()


def test_a_dead_leaders_lock_is_freed(make_settings: SettingsFactory, tmp_path: Path) -> None:
    settings = make_settings()
    leading = tmp_path / "leading"
    spawn = multiprocessing.get_context("spawn")
    leader = spawn.Process(target=_lead_then_hang, args=(settings, str(leading)))
    leader.start()
    deadline = time.monotonic() + 30
    while not leading.exists() and time.monotonic() < deadline:
        time.sleep(0.05)
    standby = leadership(settings, "projections")
    assert standby is not None
    assert not standby.leads()
    leader.kill()  # no clean-up runs: the store must free the lock itself
    leader.join()
    deadline = time.monotonic() + 10
    while not standby.leads() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert standby.leads()
    standby.release()


def _lead_then_hang(settings: Settings, leading: str) -> None:
    lead = leadership(settings, "projections")
    assert lead is not None
    while not lead.leads():
        time.sleep(0.05)
    Path(leading).touch()
    time.sleep(120)


@pytest.mark.postgres
def test_a_lock_session_asks_the_server_to_notice_a_vanished_client(tmp_path: Path) -> None:
    """The queue mutex and the projections' lead live in such sessions: if this process's host
    dies, the server must end the session (and free the locks) in seconds, not hours."""
    with postgres_schema() as schema:
        session = LockSession(postgres_settings(tmp_path, schema))
        try:
            shown = session.execute(
                "SELECT concat_ws(' ', current_setting('tcp_keepalives_idle'),"
                " current_setting('tcp_keepalives_interval'),"
                " current_setting('tcp_keepalives_count'), current_setting('tcp_user_timeout'))"
                " WHERE %s::bigint IS NOT NULL",
                0,
            )
        finally:
            session.drop()
    assert shown == "5 5 3 20000"  # seconds, seconds, probes, milliseconds
