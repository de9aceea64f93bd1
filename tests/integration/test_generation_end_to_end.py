"""Real generation end to end: a real `atelier serve` and real `atelier worker --concurrency 4`
processes on one store, with local fakes of OpenAI's image edit and of Cloudinary.

The photos reach the model (bytes compared), results are durable Cloudinary URLs that load; a
worker SIGKILLed mid-generation loses its lease and another worker completes the generation with
the tokens captured once; a cancel during generation releases the tokens and uploads nothing.
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
from pathlib import Path
from typing import Any

import httpx
import pytest

from infrastructure.settings import Settings
from tests.conftest import SettingsFactory
from tests.support.builders import admin, bearer, generation_body
from tests.support.fake_cloudinary import CLOUD, FakeCloudinary
from tests.support.fake_openai import API_KEY, FakeOpenAI, Reply, images
from tests.support.png import png
from tests.support.servers import Server, atelier_server, run_cli
from tests.support.stores import settings_env

pytestmark = pytest.mark.slow
ATELIER = str(Path(sys.executable).with_name("atelier"))
RESULT = png(12, 8, (9, 99, 199))


@contextmanager
def fakes() -> Iterator[tuple[FakeOpenAI, FakeCloudinary]]:
    openai_fake, cloudinary = FakeOpenAI(), FakeCloudinary()
    openai_fake.otherwise = images(RESULT)
    with openai_fake.running(), cloudinary.running():
        yield openai_fake, cloudinary


def service_env(
    settings: Settings, openai_fake: FakeOpenAI, cloudinary: FakeCloudinary, **extra: str
) -> dict[str, str]:
    env = {key: value for key, value in os.environ.items() if not key.startswith("OPENAI_")}
    env.update(settings_env(settings))
    env.update(
        {
            "GENERATOR": "openai",
            "OPENAI_API_KEY": API_KEY,
            "OPENAI_BASE_URL": openai_fake.base_url,
            "CLOUDINARY_URL": cloudinary.cloudinary_url,
            "CLOUDINARY_DELIVERY_URL": cloudinary.origin,
            "SWEEP_INTERVAL_SECONDS": "0.2",
            **extra,
        }
    )
    return env


@contextmanager
def worker(env: dict[str, str], logs: Path, *args: str) -> Iterator[subprocess.Popen[bytes]]:
    logs.mkdir(parents=True, exist_ok=True)
    with (logs / "stdout").open("wb") as out, (logs / "stderr").open("wb") as err:
        process = subprocess.Popen(
            [ATELIER, "worker", "--poll", "0.1", *args],
            env={**env, "ATELIER_CREATE_TABLES": "n"},
            stdout=out,
            stderr=err,
        )
        try:
            yield process
        finally:
            if process.poll() is None:
                process.kill()
                process.wait(timeout=30)


def wait_for(condition: Callable[[], bool], seconds: float = 120) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.1)
    return condition()


def submit_with_photos(
    server: Server, cloudinary: FakeCloudinary, user: str, n: int
) -> tuple[str, tuple[bytes, ...]]:
    photos = (png(2 + n, 3, (n, 1, 1)), png(3, 2 + n, (n, 2, 2)))
    body = generation_body(
        productImages=[cloudinary.host(f"v1/{user}/product-{n}.png", photos[0])],
        modelImages=[cloudinary.host(f"v1/{user}/model-{n}.png", photos[1])],
        aspectRatio="9:16",
    )
    answer = httpx.post(f"{server.base_url}/api/generate", json=body, headers=bearer(user))
    assert answer.status_code == 201, answer.text
    return answer.json()["data"]["_id"], photos


def shown(server: Server, user: str, gid: str) -> dict[str, Any]:
    answer = httpx.get(f"{server.base_url}/api/generations/{gid}", headers=bearer(user))
    data: dict[str, Any] = answer.json()["data"]
    return data


def open_account(server: Server, user: str, tokens: int) -> None:
    answer = httpx.post(
        f"{server.base_url}/api/admin/accounts",
        json={"userId": user, "tokens": tokens},
        headers=admin(),
    )
    assert answer.status_code == 201, answer.text


def event_types(server: Server, path: str, headers: dict[str, str]) -> list[str]:
    answer = httpx.get(f"{server.base_url}{path}", headers=headers)
    return [entry["type"] for entry in answer.json()["data"]]


def test_generations_complete_with_durable_results_made_from_their_own_photos(
    make_settings: SettingsFactory, tmp_path: Path
) -> None:
    settings = make_settings()
    with fakes() as (openai_fake, cloudinary):
        env = service_env(settings, openai_fake, cloudinary)
        with atelier_server(env) as server:
            open_account(server, "alice", 20)
            submitted = dict(submit_with_photos(server, cloudinary, "alice", n) for n in range(6))
            with worker(env, tmp_path / "w", "--concurrency", "4") as process:
                done = wait_for(
                    lambda: all(
                        shown(server, "alice", gid)["status"] == "completed" for gid in submitted
                    )
                )
                assert done, (tmp_path / "w" / "stderr").read_text()[-3000:]
                process.send_signal(signal.SIGTERM)
                assert process.wait(timeout=60) == 0

            for gid, photos in submitted.items():
                generation = shown(server, "alice", gid)
                (url,) = generation["resultImages"]
                public_id = f"atelier/alice/{gid}/result-1"
                assert url.startswith(f"https://res.cloudinary.com/{CLOUD}/image/upload/v")
                assert url.endswith(f"/{public_id}.png")
                loaded = httpx.get(cloudinary.origin + cloudinary.delivery_path(url))
                assert (loaded.status_code, loaded.content) == (200, RESULT)  # it loads
                result = [image for image in generation["images"] if image["role"] == "result"]
                assert result == [
                    {
                        "url": url,
                        "role": "result",
                        "order": 0,
                        "isPrimary": True,
                        "publicId": public_id,
                        "format": "png",
                        "width": 12,
                        "height": 8,
                    }
                ]
                # The photos of this generation reached the model, in order.
                assert [list(photos)] == [
                    r.images
                    for r in openai_fake.requests
                    if r.fields["prompt"] == generation["prompt"] and r.images == list(photos)
                ]
            assert len(openai_fake.requests) == len(submitted)
            assert {r.fields["size"] for r in openai_fake.requests} == {"1024x1536"}
            assert len(cloudinary.uploads) == len(submitted) and cloudinary.refused == []
            stats = httpx.get(f"{server.base_url}/api/admin/stats", headers=admin()).json()
            assert stats["data"]["generator"] == {"name": "openai", "circuit": "closed"}
            audit = run_cli(env, "audit", "--json")  # result images break no invariant
            assert audit.returncode == 0, audit.stdout[-3000:] + audit.stderr[-3000:]
            account = httpx.get(f"{server.base_url}/api/account", headers=bearer("alice"))
            assert (account.json()["data"]["balance"], account.json()["data"]["reserved"]) == (
                14,
                0,
            )
    lines = [json.loads(line) for line in (tmp_path / "w" / "stdout").read_text().splitlines()]
    assert sorted(line["generationId"] for line in lines) == sorted(submitted)


def test_a_worker_killed_mid_generation_loses_its_lease_and_another_completes_it_once(
    sqlite_only: SettingsFactory, tmp_path: Path
) -> None:
    settings = sqlite_only(lease_seconds=3)
    with fakes() as (openai_fake, cloudinary):
        openai_fake.will_answer(Reply(200, images(RESULT).body, hang_seconds=120))
        env = service_env(settings, openai_fake, cloudinary)
        with atelier_server(env) as server:
            open_account(server, "alice", 10)
            gid, _ = submit_with_photos(server, cloudinary, "alice", 1)
            with worker(env, tmp_path / "doomed", "--concurrency", "4") as doomed:
                assert openai_fake.arrived.wait(120), (tmp_path / "doomed" / "stderr").read_text()
                assert shown(server, "alice", gid)["status"] == "processing"
                doomed.kill()  # SIGKILL: no chance to record anything
                assert doomed.wait(timeout=30) == -signal.SIGKILL
            # The lease runs out, the server's sweeper puts it back first in line.
            assert wait_for(lambda: shown(server, "alice", gid)["status"] == "pending")
            with worker(env, tmp_path / "rescuer", "--concurrency", "4") as rescuer:
                assert wait_for(lambda: shown(server, "alice", gid)["status"] == "completed")
                rescuer.send_signal(signal.SIGTERM)
                assert rescuer.wait(timeout=60) == 0
            generation = shown(server, "alice", gid)
            assert generation["resultImages"][0].endswith(f"/atelier/alice/{gid}/result-1.png")
            history = event_types(server, f"/api/generations/{gid}/events", bearer("alice"))
            assert history.count("GenerationStarted") == 2
            assert history.count("GenerationRequeued") == 1
            assert history.count("GenerationCompleted") == 1
            account_history = event_types(server, "/api/admin/accounts/alice/events", admin())
            assert account_history.count("TokensCaptured") == 1
            assert "TokensReleased" not in account_history
            account = httpx.get(f"{server.base_url}/api/account", headers=bearer("alice"))
            assert (account.json()["data"]["balance"], account.json()["data"]["reserved"]) == (
                9,
                0,
            )
            assert len(cloudinary.uploads) == 1  # the killed worker uploaded nothing


def test_a_cancel_during_generation_releases_the_tokens_and_uploads_nothing(
    sqlite_only: SettingsFactory, tmp_path: Path
) -> None:
    settings = sqlite_only(lease_seconds=3)
    with fakes() as (openai_fake, cloudinary):
        openai_fake.will_answer(Reply(200, images(RESULT).body, hang_seconds=120))
        env = service_env(settings, openai_fake, cloudinary)
        with atelier_server(env) as server:
            open_account(server, "alice", 10)
            gid, _ = submit_with_photos(server, cloudinary, "alice", 1)
            with worker(env, tmp_path / "w", "--concurrency", "4") as process:
                assert openai_fake.arrived.wait(120), (tmp_path / "w" / "stderr").read_text()
                cancelled = httpx.post(
                    f"{server.base_url}/api/generations/{gid}/cancel",
                    json={},
                    headers=bearer("alice"),
                )
                assert cancelled.status_code == 200, cancelled.text
                stdout = tmp_path / "w" / "stdout"
                assert wait_for(lambda: gid in stdout.read_text()), (
                    tmp_path / "w" / "stderr"
                ).read_text()[-3000:]
                openai_fake.release.set()  # the model answers now: too late to be used
                process.send_signal(signal.SIGTERM)
                assert process.wait(timeout=60) == 0
            (line,) = [json.loads(text) for text in stdout.read_text().splitlines()]
            assert (line["generationId"], line["status"], line["resultImages"]) == (
                gid,
                "cancelled",
                [],
            )
            assert cloudinary.uploads == []
            generation = shown(server, "alice", gid)
            assert (generation["status"], generation["resultImages"]) == ("cancelled", [])
            account = httpx.get(f"{server.base_url}/api/account", headers=bearer("alice"))
            data = account.json()["data"]
            assert (data["balance"], data["reserved"], data["available"]) == (10, 0, 10)


def test_sigterm_lets_the_running_generation_finish_and_claims_no_more(
    sqlite_only: SettingsFactory, tmp_path: Path
) -> None:
    settings = sqlite_only()
    with fakes() as (openai_fake, cloudinary):
        openai_fake.will_answer(Reply(200, images(RESULT).body, hang_seconds=120))
        env = service_env(settings, openai_fake, cloudinary)
        with atelier_server(env) as server:
            open_account(server, "alice", 10)
            first, _ = submit_with_photos(server, cloudinary, "alice", 1)
            with worker(env, tmp_path / "w", "--concurrency", "1") as process:
                assert openai_fake.arrived.wait(120), (tmp_path / "w" / "stderr").read_text()
                second, _ = submit_with_photos(server, cloudinary, "alice", 2)
                process.send_signal(signal.SIGTERM)
                stderr = tmp_path / "w" / "stderr"
                assert wait_for(lambda: "worker stops after" in stderr.read_text())
                openai_fake.release.set()  # the model answers the generation in hand
                assert process.wait(timeout=60) == 0
            assert shown(server, "alice", first)["status"] == "completed"
            assert shown(server, "alice", second)["status"] == "pending"  # not claimed
            assert len(openai_fake.requests) == 1
