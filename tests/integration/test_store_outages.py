"""Store outages against a real `atelier serve`: PostgreSQL refusing, hanging or dropping
connections (through tests/support/tcp_proxy.py, never by touching the shared server), and a
SQLite file that cannot be written. Health answers 503 within 2 s, every request 503 with
`Retry-After` (never a 500 or a hang: the client's timeouts bound each answer), nothing is
recorded twice, the service heals alone once the store is back, and the audit passes."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import psycopg
import pytest

from infrastructure.projections.registry import PROJECTIONS
from tests.support.builders import admin, bearer, generation_body
from tests.support.load import Load
from tests.support.servers import (
    Server,
    atelier_command,
    free_port,
    run_cli,
    running,
    wait_until_healthy,
)
from tests.support.stores import (
    POSTGRES,
    postgres_schema,
    postgres_settings,
    settings_env,
    sqlite_settings,
)
from tests.support.tcp_proxy import tcp_proxy

pytestmark = pytest.mark.slow

HEALTH_BOUND_SECONDS = 2.5  # API.md's 2 s, and a little for a loaded machine
REQUEST_BOUND_SECONDS = 10.0  # "within a few seconds": never the minutes of a hung pool
RECOVERY_SECONDS = 30.0
OUTAGE_SECONDS = 10.0
LONG_OUTAGE_SECONDS = 150.0
# Records with a traceback: one per loop and change of state, not one per attempt. Each view's
# follower, and the other loops (sweeper, leadership, webhooks' creation and delivery, the group
# commit, health), each saying "failing" once.
MAX_LOG_TRACEBACKS = len(PROJECTIONS) + 8
RECORD_START = re.compile(r"^(?=\d{4}-\d\d-\d\dT)", re.MULTILINE)  # a text log record's timestamp
LOAD_USERS = 4
FULL_DISK_ATTEMPTS = 200


@contextmanager
def serve(env: dict[str, str], log_dir: Path, healthy: bool = True) -> Iterator[Server]:
    """`atelier serve` on `env`; waits for its health check to pass unless `healthy` is off."""
    port = free_port()
    command = atelier_command("serve", "--port", str(port), "--no-access-log")
    log = log_dir / f"server-{port}.log"
    with running(command, env, log) as process:
        server = Server(f"http://127.0.0.1:{port}", process, log)
        if healthy:
            wait_until_healthy(server)
        else:
            answered_at_all(server)
        yield server


def answered_at_all(server: Server) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            httpx.get(f"{server.base_url}/api/generate", timeout=HEALTH_BOUND_SECONDS)
            return
        except httpx.HTTPError:
            time.sleep(0.2)
    raise RuntimeError(server.log.read_text())


def records_with_a_traceback(log: str) -> int:
    """Log records followed by a traceback (a chained exception's second one is the same record)."""
    return sum(
        1 for record in RECORD_START.split(log) if "Traceback (most recent call last)" in record
    )


def health(client: httpx.Client) -> int:
    return client.get("/api/generate", timeout=HEALTH_BOUND_SECONDS).status_code


def assert_unavailable(response: httpx.Response) -> None:
    assert response.status_code == 503, response.text
    assert response.json()["code"] == "SERVICE_UNAVAILABLE"
    assert int(response.headers["retry-after"]) > 0


def submit(client: httpx.Client, user: str, key: str) -> httpx.Response:
    return client.post(
        "/api/generate",
        json=generation_body(),
        headers={**bearer(user), "Idempotency-Key": key},
        timeout=REQUEST_BOUND_SECONDS,
    )


def wait_for_recovery(client: httpx.Client) -> None:
    deadline = time.monotonic() + RECOVERY_SECONDS
    while time.monotonic() < deadline:
        try:
            if health(client) == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise AssertionError("the service did not recover by itself")


def outage_then_recovery(
    client: httpx.Client,
    user: str,
    make_outage: Callable[[], None],
    seconds: float = OUTAGE_SECONDS,
) -> list[str]:
    """Requests during the outage all answer 503; afterwards the same keys succeed once."""
    keys = [uuid.uuid4().hex for _ in range(3)]
    make_outage()
    ends_at = time.monotonic() + seconds
    while time.monotonic() < ends_at:
        assert health(client) == 503
        assert_unavailable(client.get("/api/account", headers=bearer(user), timeout=10))
        assert_unavailable(submit(client, user, keys[0]))
    return keys


def audit_passes(env: dict[str, str]) -> None:
    audit = run_cli(env, "audit")
    assert audit.returncode == 0, audit.stdout + audit.stderr


@pytest.mark.postgres
@pytest.mark.parametrize(
    ("fault", "seconds"),
    [("refuse", OUTAGE_SECONDS), ("blackhole", OUTAGE_SECONDS), ("refuse", LONG_OUTAGE_SECONDS)],
)
def test_postgres_outage_answers_503_and_heals_alone(
    tmp_path: Path, fault: str, seconds: float
) -> None:
    """The long one is the 150 s outage that once left the servers 85-89 s without answers."""
    with (
        postgres_schema() as schema,
        tcp_proxy(str(POSTGRES["host"]), int(POSTGRES["port"])) as proxy,
    ):
        env = {
            **settings_env(postgres_settings(tmp_path, schema)),
            "POSTGRES_PORT": str(proxy.port),
        }
        with serve(env, tmp_path) as server, httpx.Client(base_url=server.base_url) as client:
            opened = client.post(
                "/api/admin/accounts", json={"userId": "ada", "tokens": 50}, headers=admin()
            )
            assert opened.status_code == 201
            assert submit(client, "ada", "before").status_code == 201
            keys = outage_then_recovery(client, "ada", getattr(proxy, fault), seconds)
            proxy.restore()
            wait_for_recovery(client)
            for key in keys:
                assert submit(client, "ada", key).status_code == 201
            replay = submit(client, "ada", keys[0])
            assert replay.headers.get("idempotent-replayed") == "true"
            account = client.get("/api/account", headers=bearer("ada")).json()["data"]
        assert account["reserved"] == 4  # "before" and the three keys: nothing twice
        tracebacks = records_with_a_traceback(server.log.read_text())
        assert tracebacks <= MAX_LOG_TRACEBACKS, server.log.read_text()[-5000:]
        audit_passes(env)


@pytest.mark.postgres
def test_a_server_started_before_postgresql_is_back_waits_for_it(tmp_path: Path) -> None:
    with (
        postgres_schema() as schema,
        tcp_proxy(str(POSTGRES["host"]), int(POSTGRES["port"])) as proxy,
    ):
        env = {
            **settings_env(postgres_settings(tmp_path, schema)),
            "POSTGRES_PORT": str(proxy.port),
        }
        proxy.refuse()
        port = free_port()
        command = atelier_command("serve", "--port", str(port), "--no-access-log")
        log = tmp_path / "server-started-early.log"
        with running(command, env, log) as process:
            time.sleep(OUTAGE_SECONDS)
            assert process.poll() is None, log.read_text()  # waiting, not exited
            proxy.restore()
            server = Server(f"http://127.0.0.1:{port}", process, log)
            wait_until_healthy(server)
            with httpx.Client(base_url=server.base_url) as client:
                opened = client.post(
                    "/api/admin/accounts", json={"userId": "ada", "tokens": 5}, headers=admin()
                )
                assert opened.status_code == 201
        assert records_with_a_traceback(log.read_text()) <= MAX_LOG_TRACEBACKS


@pytest.mark.postgres
@pytest.mark.parametrize("fault", ["refuse", "blackhole"])
def test_postgres_outage_under_load_loses_and_doubles_nothing(tmp_path: Path, fault: str) -> None:
    """16 connections submitting through a 10 s outage: each answer a 201 or a 503 with
    Retry-After, every 201 stored and reserved once, no request recorded twice (the audit)."""
    with (
        postgres_schema() as schema,
        tcp_proxy(str(POSTGRES["host"]), int(POSTGRES["port"])) as proxy,
    ):
        settings = postgres_settings(
            tmp_path, schema, max_requests_per_hour=100_000, queue_max_size=100_000
        )
        env = {**settings_env(settings), "POSTGRES_PORT": str(proxy.port)}
        with serve(env, tmp_path) as server, httpx.Client(base_url=server.base_url) as client:
            for i in range(LOAD_USERS):
                opened = client.post(
                    "/api/admin/accounts",
                    json={"userId": f"u{i}", "tokens": 10_000},
                    headers=admin(),
                )
                assert opened.status_code == 201
            load = Load(server.base_url, LOAD_USERS)
            threads = load.start(16)
            time.sleep(2)
            getattr(proxy, fault)()
            time.sleep(OUTAGE_SECONDS)
            proxy.restore()
            wait_for_recovery(client)
            time.sleep(2)
            load.finish(threads)
            wait_for_views(client)
            for user, ids in load.accepted.items():
                account = client.get("/api/account", headers=bearer(user)).json()["data"]
                listed = client.get(
                    "/api/generations", params={"limit": "100"}, headers=bearer(user)
                ).json()["data"]
                assert set(ids) <= {item["_id"] for item in listed}
                assert account["reserved"] == len(listed) and account["available"] >= 0
        assert set(load.statuses) <= {201, 503}, load.statuses
        assert load.statuses.get(503, 0) > 0 and load.transport_errors == 0
        assert records_with_a_traceback(server.log.read_text()) <= MAX_LOG_TRACEBACKS
        audit_passes(env)


def wait_for_views(client: httpx.Client) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        stats = client.get("/api/admin/stats", headers=admin()).json()["data"]
        if all(view["lag"] == 0 for view in stats["projections"]):
            return
        time.sleep(0.2)
    raise AssertionError(f"views did not catch up: {stats['projections']}")


@pytest.mark.postgres
def test_postgres_sessions_terminated_are_replaced_without_a_500(tmp_path: Path) -> None:
    """pg_terminate_backend on this test's own sessions only (its schema's application)."""
    with postgres_schema() as schema:
        settings = postgres_settings(tmp_path, schema, max_requests_per_hour=1000)
        env = settings_env(settings)
        app_name = f"atelier-{schema}"
        env["PGAPPNAME"] = app_name
        with serve(env, tmp_path) as server, httpx.Client(base_url=server.base_url) as client:
            client.post(
                "/api/admin/accounts", json={"userId": "bo", "tokens": 100}, headers=admin()
            )
            statuses: list[int] = []
            terminated = 0
            for round_ in range(6):
                terminated += terminate_sessions(app_name)
                for attempt in range(3):
                    key = f"{round_}-{attempt}"
                    response = submit(client, "bo", key)
                    statuses.append(response.status_code)
                    if response.status_code == 503:
                        assert int(response.headers["retry-after"]) > 0
                        wait_for_recovery(client)
                        response = submit(client, "bo", key)
                    assert response.status_code == 201, response.text
            account = client.get("/api/account", headers=bearer("bo")).json()["data"]
        assert terminated >= 6 and 500 not in statuses
        assert account["reserved"] == 18  # each key once, whatever was retried
        audit_passes(env)


def terminate_sessions(app_name: str) -> int:
    """How many of this test's sessions were ended (nobody else's: the server is shared)."""
    with psycopg.connect(**POSTGRES, autocommit=True) as connection:  # type: ignore[arg-type]
        rows = connection.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = %s",
            (app_name,),
        ).fetchall()
    return len(rows)


def make_unwritable(path: Path) -> Callable[[], None]:
    """The file cannot be written, even by root (who ignores permission bits: `chattr +i`);
    returns what makes it writable again."""
    if os.geteuid() != 0:
        path.chmod(0o444)
        return lambda: path.chmod(0o644)
    if shutil.which("chattr") is None:
        pytest.skip("root ignores file modes, and chattr (e2fsprogs) is not installed")
    made = subprocess.run(["chattr", "+i", str(path)], capture_output=True, check=False)
    if made.returncode != 0:
        pytest.skip(f"this filesystem has no immutable flag: {made.stderr.decode()}")
    return lambda: subprocess.run(["chattr", "-i", str(path)], check=True) and None


def test_sqlite_started_read_only_is_unhealthy_then_heals_alone(tmp_path: Path) -> None:
    env = settings_env(sqlite_settings(tmp_path))
    opened = run_cli(env, "accounts", "open", "cy", "--tokens", "20")
    assert opened.returncode == 0, opened.stderr
    restore = make_unwritable(tmp_path / "atelier.sqlite3")
    try:
        with (
            serve(env, tmp_path, healthy=False) as server,
            httpx.Client(base_url=server.base_url, timeout=REQUEST_BOUND_SECONDS) as client,
        ):
            assert health(client) == 503  # it can read, but it cannot write
            assert_unavailable(submit(client, "cy", "k1"))
            assert client.get("/api/account", headers=bearer("cy")).status_code == 200
            assert health(client) == 503
            restore()
            restore = lambda: None  # noqa: E731
            wait_for_recovery(client)
            assert submit(client, "cy", "k1").status_code == 201
            assert submit(client, "cy", "k2").status_code == 201
            account = client.get("/api/account", headers=bearer("cy")).json()["data"]
    finally:
        restore()
    assert account["reserved"] == 2
    audit_passes(env)


@contextmanager
def small_disk(path: Path, size: str = "8m") -> Iterator[Path]:
    """A tmpfs of `size` at `path` (needs root, as CI runs; skipped with the reason otherwise)."""
    if os.geteuid() != 0:
        pytest.skip("mounting a small filesystem to fill needs root")
    path.mkdir(parents=True)
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(path)],
        capture_output=True,
        check=False,
    )
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {mounted.stderr.decode().strip()}")
    try:
        yield path
    finally:
        subprocess.run(["umount", "-l", str(path)], check=False)


def fill(directory: Path) -> Path:
    """A file taking every free byte of `directory`'s filesystem."""
    filler = directory / "filler"
    with filler.open("wb") as output:
        try:
            while True:
                output.write(b"\0" * 65536)
                output.flush()
        except OSError:
            pass
    return filler


def test_sqlite_on_a_full_disk_answers_503_and_heals_when_space_returns(tmp_path: Path) -> None:
    with small_disk(tmp_path / "disk") as data_dir:
        env = settings_env(sqlite_settings(data_dir))
        with (
            serve(env, tmp_path) as server,
            httpx.Client(base_url=server.base_url, timeout=REQUEST_BOUND_SECONDS) as client,
        ):
            opened = client.post(
                "/api/admin/accounts", json={"userId": "di", "tokens": 1000}, headers=admin()
            )
            assert opened.status_code == 201
            assert submit(client, "di", "k0").status_code == 201
            filler = fill(data_dir)
            statuses: dict[int, int] = {}
            keys = [f"full-{attempt}" for attempt in range(FULL_DISK_ATTEMPTS)]
            for key in keys:  # what is left of the WAL may still take a few
                answer = submit(client, "di", key)
                statuses[answer.status_code] = statuses.get(answer.status_code, 0) + 1
                if answer.status_code == 503:
                    assert int(answer.headers["retry-after"]) > 0
                    break
            assert set(statuses) <= {201, 503} and statuses.get(503) == 1, statuses
            assert client.get("/api/account", headers=bearer("di")).status_code == 200
            filler.unlink()
            wait_for_recovery(client)
            tried = keys[: sum(statuses.values())]
            for key in tried:  # the refused one is saved now, the others are replayed
                assert submit(client, "di", key).status_code == 201
            account = client.get("/api/account", headers=bearer("di")).json()["data"]
        assert account["reserved"] == 1 + len(tried)
        audit_passes(env)
