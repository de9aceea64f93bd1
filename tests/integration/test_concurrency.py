"""Every submission rule holds under concurrent requests spread over two `atelier serve`
processes sharing one store (SQLite file, or PostgreSQL), proven by counting what is stored."""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest

from application.service import Atelier
from domain.generations import Generation
from domain.identifiers import account_id
from infrastructure.bootstrap import build_application
from infrastructure.settings import Settings
from tests.conftest import SettingsFactory
from tests.support.builders import bearer, generation_body
from tests.support.servers import Server, atelier_server
from tests.support.stores import settings_env

pytestmark = pytest.mark.slow
GENERATION_REQUESTED = f"{Generation.__module__}:Generation.GenerationRequested"


@contextmanager
def two_servers(settings: Settings) -> Iterator[list[Server]]:
    """Two server processes on one store, started one after the other (each waits until its
    server answers)."""
    env = settings_env(settings)
    with ExitStack() as stack:
        servers = [stack.enter_context(atelier_server(env)) for _ in range(2)]
        yield servers


def fire(
    servers: list[Server], requests: list[tuple[str, str, dict[str, str], Any]]
) -> list[httpx.Response]:
    """Send every request at once, alternating between the servers."""

    async def send_all() -> list[httpx.Response]:
        limits = httpx.Limits(max_connections=len(requests))
        async with httpx.AsyncClient(timeout=60, limits=limits) as client:
            return await asyncio.gather(
                *(
                    client.request(
                        method,
                        servers[i % len(servers)].base_url + path,
                        headers=headers,
                        json=body,
                    )
                    for i, (method, path, headers, body) in enumerate(requests)
                )
            )

    return asyncio.run(send_all())


def generations_stored(atelier: Atelier) -> list[str]:
    """The ids of every GenerationRequested event in the log."""
    notifications = atelier.recorder.select_notifications(
        start=1, limit=1_000_000, topics=[GENERATION_REQUESTED]
    )
    return [str(n.originator_id) for n in notifications]


@pytest.fixture
def store(make_settings: SettingsFactory, tmp_path: Path) -> SettingsFactory:
    return make_settings


def test_tokens_never_overspent(store: SettingsFactory) -> None:
    settings = store(max_requests_per_hour=1000, queue_max_size=1000)
    with build_application(settings) as atelier:
        atelier.open_account("alice", 5)
    with two_servers(settings) as servers:
        responses = fire(
            servers, [("POST", "/api/generate", bearer("alice"), generation_body())] * 40
        )
    assert Counter(r.status_code for r in responses) == {201: 5, 400: 35}
    assert {r.json()["code"] for r in responses if r.status_code == 400} == {"INSUFFICIENT_TOKENS"}
    with build_application(settings) as atelier:
        account = atelier.repository.get(account_id("alice"))
        assert (account.balance, account.reserved, account.available) == (5, 5, 0)
        stored = generations_stored(atelier)
        assert len(stored) == 5
        assert set(account.reservations) == set(stored)
        assert {r.json()["data"]["_id"] for r in responses if r.status_code == 201} == set(stored)


def test_exactly_the_hourly_limit_is_accepted(store: SettingsFactory) -> None:
    settings = store(max_requests_per_hour=7, queue_max_size=1000)
    with build_application(settings) as atelier:
        atelier.open_account("alice", 100)
    with two_servers(settings) as servers:
        responses = fire(
            servers, [("POST", "/api/generate", bearer("alice"), generation_body())] * 30
        )
    assert Counter(r.status_code for r in responses) == {201: 7, 429: 23}
    assert all(int(r.headers["retry-after"]) > 0 for r in responses if r.status_code == 429)
    with build_application(settings) as atelier:
        assert len(generations_stored(atelier)) == 7
        assert atelier.get_account("alice").record.reserved == 7


def test_the_queue_never_holds_more_than_its_capacity(store: SettingsFactory) -> None:
    settings = store(max_requests_per_hour=1000, queue_max_size=10)
    users = [f"user-{n}" for n in range(40)]
    with build_application(settings) as atelier:
        for user in users:
            atelier.open_account(user, 3)
    with two_servers(settings) as servers:
        responses = fire(
            servers, [("POST", "/api/generate", bearer(user), generation_body()) for user in users]
        )
    assert Counter(r.status_code for r in responses) == {201: 10, 503: 30}
    assert {r.json()["code"] for r in responses if r.status_code == 503} == {"QUEUE_FULL"}
    positions = sorted(r.json()["data"]["queuePosition"] for r in responses if r.status_code == 201)
    assert positions == list(range(1, 11))
    with build_application(settings) as atelier:
        assert len(generations_stored(atelier)) == 10
        assert atelier.load_queue().pending == 10
        assert sum(atelier.get_account(u).record.reserved for u in users) == 10


def test_concurrent_duplicates_with_one_key_make_one_generation(store: SettingsFactory) -> None:
    settings = store(max_requests_per_hour=1000, queue_max_size=1000)
    with build_application(settings) as atelier:
        atelier.open_account("alice", 50)
    headers = {**bearer("alice"), "Idempotency-Key": "checkout-7"}
    with two_servers(settings) as servers:
        responses = fire(servers, [("POST", "/api/generate", headers, generation_body())] * 20)
    assert Counter(r.status_code for r in responses) == {201: 20}
    assert len({r.json()["data"]["_id"] for r in responses}) == 1
    replays = Counter(r.headers.get("idempotent-replayed") for r in responses)
    assert replays == {None: 1, "true": 19}
    with build_application(settings) as atelier:
        assert len(generations_stored(atelier)) == 1
        account = atelier.repository.get(account_id("alice"))
        assert (account.reserved, len(account.accepted_at)) == (1, 1)


def test_concurrent_duplicate_grants_grant_once(store: SettingsFactory) -> None:
    settings = store()
    with build_application(settings) as atelier:
        atelier.open_account("alice", 0)
    headers = {**bearer("root", "admin"), "Idempotency-Key": "invoice-311"}
    body = {"amount": 25, "reason": "invoice 311"}
    with two_servers(settings) as servers:
        responses = fire(
            servers, [("POST", "/api/admin/accounts/alice/grants", headers, body)] * 20
        )
    assert Counter(r.status_code for r in responses) == {201: 20}
    assert {r.json()["data"]["balance"] for r in responses} == {25}
    with build_application(settings) as atelier:
        account = atelier.get_account("alice").record
        assert (account.balance, account.version) == (25, 2)
