"""Processes started together on one store all start, each creating what tables are missing.

On PostgreSQL two processes creating the tables at once could fail on the server's catalogue
("tuple concurrently updated"): `atelier projections run` started beside another died that way.
"""

from __future__ import annotations

import os
import subprocess
import threading
from pathlib import Path

import pytest

from infrastructure.bootstrap import build_application, build_read_models
from infrastructure.locks import session, table_creation
from infrastructure.settings import Settings
from tests.conftest import SettingsFactory
from tests.support.servers import atelier_command
from tests.support.stores import postgres_schema, postgres_settings, settings_env

STARTERS = 6


def _start(settings: Settings, barrier: threading.Barrier, failures: list[BaseException]) -> None:
    barrier.wait()
    try:
        build_application(settings).close()
    except BaseException as error:  # collected for the assertion
        failures.append(error)


def _start_together(settings: Settings, rounds: int) -> list[BaseException]:
    """Build the application in STARTERS threads at once, `rounds` times; what they raised."""
    failures: list[BaseException] = []
    for _ in range(rounds):
        barrier = threading.Barrier(STARTERS)
        threads = [
            threading.Thread(target=_start, args=(settings, barrier, failures))
            for _ in range(STARTERS)
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    return failures


def test_applications_started_together_all_start(make_settings: SettingsFactory) -> None:
    settings = make_settings()
    assert _start_together(settings, rounds=5) == []
    with build_application(settings) as atelier:
        assert atelier.recorder.max_notification_id() is None  # an empty, working store


def test_cli_processes_started_together_all_start(make_settings: SettingsFactory) -> None:
    env = {**os.environ, **settings_env(make_settings())}
    processes = [
        subprocess.Popen(
            atelier_command("projections", "status"),
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(4)
    ]
    for process in processes:
        _, errors = process.communicate(timeout=60)
        assert process.returncode == 0, errors[-3000:]


@pytest.mark.postgres
def test_a_process_kept_waiting_for_the_tables_says_why(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """PostgreSQL only: SQLite waits on its file lock for as long as the other one takes."""
    monkeypatch.setattr(session, "LOCK_TIMEOUT_SECONDS", 1)
    with postgres_schema() as schema:
        settings = postgres_settings(tmp_path, schema)
        holder = session.LockSession(settings)
        holder.execute("SELECT pg_advisory_lock(%s)", session.advisory_key(schema, "tables"))
        try:
            with pytest.raises(table_creation.TablesBusy, match="creating the tables"):
                build_application(settings)
        finally:
            holder.drop()
        build_application(settings).close()  # and once the lock is free, it starts


def test_a_built_applications_views_are_wired_without_another_turn_at_the_lock(
    make_settings: SettingsFactory,
) -> None:
    """build_application made the view tables: the HTTP app, the background services and the
    audit, building the read models again, need not wait for a process creating tables."""
    settings = make_settings()
    atelier = build_application(settings)
    wired: list[object] = []
    try:
        with table_creation.table_creation_lock(settings):  # another process creating tables
            builder = threading.Thread(
                target=lambda: wired.append(build_read_models(settings, atelier))
            )
            builder.start()
            builder.join(5)
            assert wired and wired[0] is not None  # did not wait for the lock
    finally:
        builder.join()
        atelier.close()
