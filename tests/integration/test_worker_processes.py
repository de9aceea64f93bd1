"""`atelier worker` as real processes on both stores: one run, a fleet, and a crash.

A worker killed mid-generation (SIGKILL while its OpenAI call hangs on a local fake server)
leaves its generation processing; once the lease has run out, the sweeper of another process
fails it as "timed out" and releases its tokens.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from application.service import Atelier
from domain.generations import TIMED_OUT
from infrastructure.settings import Settings
from tests.conftest import SettingsFactory
from tests.support.builders import PRODUCT_URL
from tests.support.clock import Clock
from tests.support.fake_cloudinary import FakeCloudinary
from tests.support.fake_openai import API_KEY, FakeOpenAI, Reply, images
from tests.support.lifecycle import account, event_names, generation, submit, wired_application
from tests.support.png import png
from tests.support.stores import settings_env

pytestmark = pytest.mark.slow
ATELIER = str(Path(sys.executable).with_name("atelier"))
LEASE = 600


def worker_env(settings: Settings, **extra: str) -> dict[str, str]:
    env = {key: value for key, value in os.environ.items() if not key.startswith("OPENAI_")}
    env.update(settings_env(settings))
    env.update({"ATELIER_CREATE_TABLES": "n", "GENERATOR": "dry-run", **extra})
    return env


@contextmanager
def worker_process(
    env: dict[str, str], logs: Path, *args: str
) -> Iterator[subprocess.Popen[bytes]]:
    with (logs / "stdout").open("wb") as out, (logs / "stderr").open("wb") as err:
        process = subprocess.Popen([ATELIER, "worker", *args], env=env, stdout=out, stderr=err)
        try:
            yield process
        finally:
            if process.poll() is None:
                process.kill()
                process.wait(timeout=30)


def wait_for(condition: Callable[[], bool], seconds: float = 60) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.05)
    return condition()


def statuses(atelier: Atelier, ids: list[Any]) -> list[str]:
    return [generation(atelier, gid).status for gid in ids]


def test_worker_once_runs_the_oldest_generation_with_the_dry_run_stand_in(
    make_settings: SettingsFactory,
) -> None:
    settings = make_settings()
    with wired_application(settings) as atelier:
        atelier.open_account("alice", 10)
        first = submit(atelier, "alice", quality="high")
        second = submit(atelier, "alice")

        done = subprocess.run(
            [ATELIER, "worker", "--once", "--worker-id", "cli-1"],
            env=worker_env(settings),
            capture_output=True,
            timeout=180,
            check=False,
        )

        assert done.returncode == 0, done.stderr.decode()
        line = json.loads(done.stdout.decode().strip().splitlines()[-1])
        assert (line["generationId"], line["status"], line["error"]) == (
            str(first),
            "completed",
            None,
        )
        assert "stand-in" in done.stderr.decode()
        completed = generation(atelier, first)
        assert completed.worker_id == "cli-1"
        assert completed.result_images == line["resultImages"]
        assert "DRY-RUN" in completed.result_images[0]
        assert generation(atelier, second).status == "pending"
        held = account(atelier, "alice")
        assert (held.balance, held.reserved) == (8, 1)

        idle = subprocess.run(
            [ATELIER, "worker", "--once"],
            env=worker_env(settings),
            capture_output=True,
            timeout=180,
            check=False,
        )
        assert idle.returncode == 0
        assert json.loads(idle.stdout.decode().splitlines()[-1])["generationId"] == str(second)


def test_openai_without_a_key_stops_the_worker_naming_the_variable(
    make_settings: SettingsFactory,
) -> None:
    settings = make_settings()
    with wired_application(settings) as atelier:
        atelier.open_account("alice", 10)
        gid = submit(atelier, "alice")
        done = subprocess.run(
            [ATELIER, "worker", "--once"],
            env=worker_env(settings, GENERATOR="openai"),
            capture_output=True,
            timeout=180,
            check=False,
        )
        assert done.returncode == 2
        assert "OPENAI_API_KEY" in done.stderr.decode()
        assert generation(atelier, gid).status == "pending"


def test_a_fleet_of_workers_runs_each_generation_once_and_stops_on_sigterm(
    make_settings: SettingsFactory, tmp_path: Path
) -> None:
    settings = make_settings()
    with wired_application(settings) as atelier:
        atelier.open_account("alice", 10)
        atelier.open_account("bob", 10)
        ids = [submit(atelier, ("alice", "bob")[n % 2]) for n in range(6)]
        env = worker_env(settings)
        (tmp_path / "w1").mkdir()
        (tmp_path / "w2").mkdir()
        with (
            worker_process(env, tmp_path / "w1", "--worker-id", "w1", "--poll", "0.1") as one,
            worker_process(env, tmp_path / "w2", "--worker-id", "w2", "--poll", "0.1") as two,
        ):
            for name in ("w1", "w2"):  # both claiming before the queue is drained
                assert wait_for(lambda n=name: "ready" in (tmp_path / n / "stderr").read_text())
            assert wait_for(lambda: statuses(atelier, ids) == ["completed"] * 6, 120), (
                statuses(atelier, ids),
                (tmp_path / "w1" / "stderr").read_text()[-2000:],
            )
            for process in (one, two):
                process.send_signal(signal.SIGTERM)
            assert one.wait(timeout=60) == 0
            assert two.wait(timeout=60) == 0

        lines = [
            json.loads(line)
            for name in ("w1", "w2")
            for line in (tmp_path / name / "stdout").read_text().splitlines()
        ]
        assert sorted(line["generationId"] for line in lines) == sorted(str(g) for g in ids)
        for gid in ids:
            assert event_names(atelier, gid).count("GenerationStarted") == 1
        for user in ("alice", "bob"):
            held = account(atelier, user)
            assert (held.balance, held.reserved) == (7, 0)


def test_a_worker_killed_mid_generation_ends_timed_out_with_tokens_released(
    make_settings: SettingsFactory, tmp_path: Path
) -> None:
    """On its last attempt (LEASE_MAX_ATTEMPTS=1); earlier ones are requeued (test_lifecycle)."""
    settings = make_settings(lease_seconds=LEASE, lease_max_attempts=1, sweep_interval_seconds=0.05)
    clock = Clock(datetime.now(UTC))
    fake = FakeOpenAI()
    fake.will_answer(Reply(200, images().body, hang_seconds=300))  # until killed
    cloudinary = FakeCloudinary()
    cloudinary.host(PRODUCT_URL.split("/upload/", 1)[1], png(4, 6), cloud="demo")
    with (
        fake.running(),
        cloudinary.running(),
        wired_application(settings, clock, with_sweeper=True) as atelier,
    ):
        atelier.open_account("alice", 10)
        gid = submit(atelier, "alice", quality="ultra")
        env = worker_env(
            settings,
            GENERATOR="openai",
            OPENAI_API_KEY=API_KEY,
            OPENAI_BASE_URL=fake.base_url,
            CLOUDINARY_URL=cloudinary.cloudinary_url,
            CLOUDINARY_DELIVERY_URL=cloudinary.origin,
        )
        with worker_process(env, tmp_path, "--worker-id", "doomed") as worker:
            assert fake.arrived.wait(timeout=120), (tmp_path / "stderr").read_text()[-2000:]
            in_flight = generation(atelier, gid)
            assert (in_flight.status, in_flight.worker_id) == ("processing", "doomed")
            worker.kill()  # SIGKILL: no chance to record anything
            assert worker.wait(timeout=30) == -signal.SIGKILL

        assert generation(atelier, gid).status == "processing"  # nothing ends it early
        clock.now = datetime.now(UTC) + timedelta(seconds=LEASE + 1)
        assert wait_for(lambda: generation(atelier, gid).status != "processing", 60)

        timed_out = generation(atelier, gid)
        assert (timed_out.status, timed_out.error) == ("failed", TIMED_OUT)
        held = account(atelier, "alice")
        assert (held.balance, held.reserved, held.available) == (10, 0, 10)
        assert event_names(atelier, gid).count("GenerationFailed") == 1
        account_events = event_names(atelier, held.id)
        assert account_events.count("TokensReleased") == 1
        assert "TokensCaptured" not in account_events
        assert len(fake.requests) == 1
        assert cloudinary.uploads == []
