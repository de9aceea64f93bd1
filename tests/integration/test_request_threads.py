"""Submissions wait without a store thread: with REQUEST_THREADS=1, reads still answer while
submissions are held up by the queue mutex (taken here, as another process would take it) or
by a slow image host."""

from __future__ import annotations

import fcntl
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest

from tests.support.builders import TEST_SECRET, bearer, generation_body
from tests.support.fake_cloudinary import FakeCloudinary
from tests.support.png import png
from tests.support.servers import atelier_server, run_cli

pytestmark = pytest.mark.slow

SUBMISSIONS = 4


def test_submissions_waiting_for_their_batch_leave_the_one_request_thread_to_reads(
    tmp_path: Path,
) -> None:
    data = tmp_path / "var"
    env = {"DATA_DIR": str(data), "AUTH_SECRET": TEST_SECRET, "REQUEST_THREADS": "1"}
    with atelier_server(env) as server:
        assert run_cli(env, "accounts", "open", "alice", "--tokens", "10").returncode == 0
        alice = bearer("alice")
        with (data / "atelier.queue.lock").open("a+b") as mutex, ThreadPoolExecutor(8) as pool:
            fcntl.flock(mutex.fileno(), fcntl.LOCK_EX)
            submitted = [
                pool.submit(
                    httpx.post,
                    f"{server.base_url}/api/generate",
                    json=generation_body(),
                    headers=alice,
                    timeout=30,
                )
                for _ in range(SUBMISSIONS)
            ]
            time.sleep(0.5)
            assert not any(answer.done() for answer in submitted)  # held by the mutex
            read = httpx.get(f"{server.base_url}/api/account", headers=alice, timeout=10)
            fcntl.flock(mutex.fileno(), fcntl.LOCK_UN)
            statuses = [answer.result().status_code for answer in submitted]
        assert read.status_code == 200 and read.json()["data"]["reserved"] == 0
        assert statuses == [201] * SUBMISSIONS
        after = httpx.get(f"{server.base_url}/api/account", headers=alice, timeout=10)
        assert after.json()["data"]["reserved"] == SUBMISSIONS


def test_submissions_waiting_on_a_slow_image_host_leave_the_one_request_thread_to_reads(
    tmp_path: Path,
) -> None:
    with FakeCloudinary().running() as cloudinary:
        hosted = cloudinary.host("v1/shirts/red.png", png(2, 2))
        env = {
            "DATA_DIR": str(tmp_path / "var"),
            "AUTH_SECRET": TEST_SECRET,
            "REQUEST_THREADS": "1",
            "VERIFY_IMAGE_URLS": "true",
            "CLOUDINARY_DELIVERY_URL": cloudinary.origin,
        }
        with atelier_server(env) as server, ThreadPoolExecutor(8) as pool:
            assert run_cli(env, "accounts", "open", "alice", "--tokens", "10").returncode == 0
            alice = bearer("alice")
            cloudinary.heads_open.clear()
            submitted = [
                pool.submit(
                    httpx.post,
                    f"{server.base_url}/api/generate",
                    json=generation_body(productImages=[hosted]),
                    headers=alice,
                    timeout=30,
                )
                for _ in range(SUBMISSIONS)
            ]
            time.sleep(0.5)
            assert not any(answer.done() for answer in submitted)  # the host has not answered
            read = httpx.get(f"{server.base_url}/api/account", headers=alice, timeout=4)
            cloudinary.heads_open.set()
            statuses = [answer.result().status_code for answer in submitted]
        assert read.status_code == 200 and read.json()["data"]["reserved"] == 0
        assert statuses == [201] * SUBMISSIONS
