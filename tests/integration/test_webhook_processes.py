"""Webhooks across real processes: a server killed between two attempts still delivers after
a restart; two servers on one PostgreSQL store create each message once; `atelier webhooks
run` delivers on its own."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any
from uuid import UUID

import httpx
import pytest

from infrastructure.bootstrap import build_application, build_read_models
from infrastructure.projections.catch_up import catch_up
from tests.conftest import SettingsFactory
from tests.support.builders import admin, bearer, generation_body
from tests.support.metrics import parse_samples, value
from tests.support.servers import atelier_command, atelier_server, running
from tests.support.stores import fresh_store, settings_env
from tests.support.webhook_receiver import webhook_receiver

pytestmark = pytest.mark.slow
DEADLINE_SECONDS = 90


def eventually(check: Callable[[], Any]) -> Any:
    deadline = time.monotonic() + DEADLINE_SECONDS
    while True:
        found = check()
        if found or time.monotonic() > deadline:
            assert found, "the condition never held"
            return found
        time.sleep(0.1)


def webhook_env(settings: Any, schedule: str) -> dict[str, str]:
    return {
        **settings_env(settings),
        "WEBHOOK_ALLOW_PRIVATE": "true",
        "WEBHOOK_RETRY_SCHEDULE": schedule,
        "MAX_REQUESTS_PER_HOUR": "1000",
    }


def create_endpoint(base_url: str, url: str, **body: object) -> dict[str, Any]:
    answer = httpx.post(
        f"{base_url}/api/admin/webhooks", json={"url": url, **body}, headers=admin(), timeout=30
    )
    assert answer.status_code == 201, answer.text
    data: dict[str, Any] = answer.json()["data"]
    return data


def open_account(base_url: str, user_id: str) -> None:
    answer = httpx.post(
        f"{base_url}/api/admin/accounts",
        json={"userId": user_id, "tokens": 1000},
        headers=admin(),
        timeout=30,
    )
    assert answer.status_code == 201, answer.text


def submit(base_url: str, user_id: str) -> str:
    answer = httpx.post(
        f"{base_url}/api/generate", json=generation_body(), headers=bearer(user_id), timeout=30
    )
    assert answer.status_code == 201, answer.text
    return str(answer.json()["data"]["_id"])


def messages(base_url: str, endpoint_id: str, query: str = "") -> list[dict[str, Any]]:
    answer = httpx.get(
        f"{base_url}/api/admin/webhooks/{endpoint_id}/messages{query}",
        headers=admin(),
        timeout=30,
    )
    assert answer.status_code == 200, answer.text
    found: list[dict[str, Any]] = answer.json()["data"]
    return found


def test_a_server_killed_between_attempts_delivers_after_restart(
    make_settings: SettingsFactory,
) -> None:
    settings = make_settings()
    env = webhook_env(settings, "4")
    with webhook_receiver() as receiver:
        with atelier_server(env) as server:
            endpoint = create_endpoint(
                server.base_url, receiver.url("/hook", fail_first=1), events=["generation.created"]
            )
            open_account(server.base_url, "alice")
            submit(server.base_url, "alice")
            (message,) = eventually(
                lambda: [m for m in messages(server.base_url, endpoint["id"]) if m["attempts"]]
            )
            assert message["status"] == "pending"
            assert message["nextAttemptAt"] is not None
            server.process.kill()  # kill -9, with the retry scheduled and not yet made
            server.process.wait()
        assert len(receiver.at("/hook")) == 1
        with atelier_server(env) as server:
            (delivered,) = eventually(
                lambda: messages(server.base_url, endpoint["id"], "?status=succeeded")
            )
        first, second = receiver.at("/hook")
        assert first.headers["webhook-id"] == second.headers["webhook-id"] == message["id"]
        assert [a["statusCode"] for a in delivered["attempts"]] == [500, 200]


@pytest.mark.postgres
def test_two_servers_on_postgresql_create_each_message_once(tmp_path: Path) -> None:
    with fresh_store("postgres", tmp_path) as settings, webhook_receiver() as receiver:
        env = webhook_env(settings, "1")
        with atelier_server(env) as first, atelier_server(env) as second:
            endpoint = create_endpoint(first.base_url, receiver.url("/both"))
            users = [f"user{n}" for n in range(4)]
            for user in users:
                open_account(first.base_url, user)
            generation_ids = [
                submit(server.base_url, user)
                for user in users
                for server in (first, second)
                for _ in range(3)
            ]
            expected = len(generation_ids)  # one generation.created each
            eventually(
                lambda: (
                    len(messages(first.base_url, endpoint["id"], "?status=succeeded&limit=100"))
                    == expected
                )
            )
            first.process.kill()  # the leader may be either: the other takes over
            first.process.wait()
            more = [submit(second.base_url, user) for user in users]
            eventually(
                lambda: (
                    len(messages(second.base_url, endpoint["id"], "?status=succeeded&limit=100"))
                    == expected + len(more)
                )
            )
            listed = messages(second.base_url, endpoint["id"], "?limit=100")
        assert sorted(m["generationId"] for m in listed) == sorted(generation_ids + more)
        delivered_ids = {r.headers["webhook-id"] for r in receiver.at("/both")}
        assert delivered_ids == {m["id"] for m in listed}


def test_webhooks_run_delivers_without_a_server(make_settings: SettingsFactory) -> None:
    settings = make_settings()
    env = webhook_env(settings, ",".join(["1"] * 50))
    with webhook_receiver() as receiver:
        with atelier_server(env) as server:
            endpoint = create_endpoint(
                server.base_url,
                receiver.url("/cli", fail_first=10_000),
                events=["generation.created"],
            )
            open_account(server.base_url, "alice")
            generation_id = submit(server.base_url, "alice")
            receiver.wait_for("/cli", 1)  # refused by the receiver so far
        receiver.behaviours["/cli"].fail_first = 0  # the server is gone: only the CLI is left
        log = Path(env["DATA_DIR"]) / "webhooks-run.log"
        with running(atelier_command("webhooks", "run"), env, log):
            eventually(lambda: len(messages_in_store(settings, endpoint["id"])) == 1)
        accepted = [r for r in receiver.at("/cli")][-1]
        assert generation_id.encode() in accepted.body
        assert accepted.headers["webhook-id"] == messages_in_store(settings, endpoint["id"])[0]


def messages_in_store(settings: Any, endpoint_id: str) -> list[str]:
    """The ids of the endpoint's delivered messages, read from the store (no server runs)."""
    atelier = build_application(settings)
    try:
        models = build_read_models(settings, atelier)
        assert models is not None
        catch_up(atelier, models.view("webhooks"))
        page = models.webhooks.messages(UUID(endpoint_id), "succeeded", 100, None)
        return [str(m.message_id) for m in page.items]
    finally:
        atelier.close()


def test_metrics_count_each_delivery_attempt_by_outcome(make_settings: SettingsFactory) -> None:
    settings = make_settings()
    env = webhook_env(settings, "1")
    with webhook_receiver() as receiver, atelier_server(env) as server:
        endpoint = create_endpoint(
            server.base_url, receiver.url("/counted", fail_first=1), events=["generation.created"]
        )
        open_account(server.base_url, "alice")
        submit(server.base_url, "alice")
        eventually(lambda: messages(server.base_url, endpoint["id"], "?status=succeeded"))
        page = httpx.get(f"{server.base_url}/metrics", timeout=30).text
    samples = parse_samples(page)
    assert len(receiver.at("/counted")) == 2  # refused once, then accepted
    assert value(samples, "atelier_webhook_messages_total", outcome="failed") == 1
    assert value(samples, "atelier_webhook_messages_total", outcome="succeeded") == 1
