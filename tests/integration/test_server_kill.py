"""kill -9 of every `atelier serve` process under load from 32 connections, then a restart on
the same store: every 201 a client received is stored with its reservation, nothing is
reserved without its generation, no balance is negative, the views catch up to what a rebuild
gives, and `atelier audit` passes. On SQLite and on PostgreSQL."""

from __future__ import annotations

import os
import signal
import threading
import time
from pathlib import Path

import httpx
import pytest

from tests.conftest import SettingsFactory
from tests.support.builders import admin, bearer
from tests.support.load import Load
from tests.support.servers import atelier_server, run_cli
from tests.support.stores import settings_env

pytestmark = pytest.mark.slow

CONNECTIONS = 32
USERS = 8
TOKENS = 10_000
KILL_AFTER_ACCEPTED = 150  # enough acceptances that the kill lands mid-stream
LOAD_SECONDS = 60  # a bound on the load, whatever happens


def descendants(pid: int) -> list[int]:
    """Every process below `pid` (uvicorn's workers), read from /proc."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        children.setdefault(int(fields[1]), []).append(int(entry.name))
    found, todo = [], [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            found.append(child)
            todo.append(child)
    return found


def test_every_acknowledged_submission_survives_kill_9_of_every_server_process(
    make_settings: SettingsFactory, tmp_path: Path
) -> None:
    settings = make_settings(
        max_requests_per_hour=100_000, queue_max_size=100_000, projections_wait_seconds=0.5
    )
    env = settings_env(settings)
    with atelier_server(env, workers=2) as server:
        with httpx.Client(base_url=server.base_url) as client:
            for i in range(USERS):
                opened = client.post(
                    "/api/admin/accounts",
                    json={"userId": f"u{i}", "tokens": TOKENS},
                    headers=admin(),
                )
                assert opened.status_code == 201
        load = Load(server.base_url, USERS)
        threads = [threading.Thread(target=load.run, args=(i,)) for i in range(CONNECTIONS)]
        for thread in threads:
            thread.start()
        deadline = time.monotonic() + LOAD_SECONDS
        while load.total < KILL_AFTER_ACCEPTED and time.monotonic() < deadline:
            time.sleep(0.05)
        for pid in [server.process.pid, *descendants(server.process.pid)]:
            os.kill(pid, signal.SIGKILL)
        server.process.wait()
        time.sleep(0.5)
        load.stop.set()
        for thread in threads:
            thread.join()
    assert load.total >= 1 and 500 not in load.statuses, load.statuses

    with atelier_server(env) as restarted, httpx.Client(base_url=restarted.base_url) as client:
        wait_for_views(client)
        for user, ids in load.accepted.items():
            account = client.get("/api/account", headers=bearer(user)).json()["data"]
            assert account["balance"] == TOKENS and account["available"] >= 0
            listed = stored_ids(client, user)
            assert set(ids) <= listed  # every 201 is stored
            assert account["reserved"] == len(listed)  # each stored one reserved, and no other
    audit = run_cli(env, "audit")
    assert audit.returncode == 0, audit.stdout + audit.stderr


def stored_ids(client: httpx.Client, user: str) -> set[str]:
    """Every generation the user's list shows, page by page."""
    ids: set[str] = set()
    cursor: str | None = None
    while True:
        params = {"limit": "100", **({"cursor": cursor} if cursor else {})}
        page = client.get("/api/generations", params=params, headers=bearer(user)).json()
        ids |= {item["_id"] for item in page["data"]}
        cursor = page["nextCursor"]
        if not cursor:
            return ids


def wait_for_views(client: httpx.Client) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        stats = client.get("/api/admin/stats", headers=admin()).json()["data"]
        if all(view["lag"] == 0 for view in stats["projections"]):
            return
        time.sleep(0.2)
    raise AssertionError(f"views did not catch up: {stats['projections']}")
