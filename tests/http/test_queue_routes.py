"""GET /api/queue, and the live queue position GET /api/generations/{id} shows while pending."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from uuid import UUID

import pytest
from starlette.testclient import TestClient

from tests.conftest import SettingsFactory
from tests.support.builders import bearer
from tests.support.clients import atelier as atelier_of
from tests.support.clients import open_account, post_generation
from tests.support.read_side import cancel, serving, start


@pytest.fixture
def client(make_settings: SettingsFactory) -> Iterator[TestClient]:
    with serving(make_settings(queue_max_size=7)) as client:
        yield client


def queue(client: TestClient, user: str = "alice", role: str = "user") -> dict[str, object]:
    response = client.get("/api/queue", headers=bearer(user, role))
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["success"] is True
    data: dict[str, object] = body["data"]
    return data


def test_an_empty_queue(client: TestClient) -> None:
    open_account(client, "alice", tokens=100)
    assert queue(client) == {"depth": 0, "capacity": 7, "processing": 0, "oldestPendingAt": None}


def test_the_queue_counts_waiting_and_running_generations(client: TestClient) -> None:
    open_account(client, "alice", tokens=100)
    atelier = atelier_of(client)
    first = post_generation(client, "alice")
    assert queue(client)["depth"] == 1  # read right after the write: it waited to see it
    second, third = post_generation(client, "alice"), post_generation(client, "alice")
    start(atelier, UUID(first))
    cancel(atelier, UUID(third))

    data = queue(client)
    assert (data["depth"], data["capacity"], data["processing"]) == (1, 7, 1)
    created = client.get(f"/api/generations/{second}", headers=bearer("alice")).json()["data"]
    assert data["oldestPendingAt"] == created["createdAt"]
    assert isinstance(data["oldestPendingAt"], str)
    assert datetime.fromisoformat(data["oldestPendingAt"]).tzinfo is not None


def test_a_pending_generation_shows_its_live_position(client: TestClient) -> None:
    open_account(client, "alice", tokens=100)
    atelier = atelier_of(client)
    ids = [post_generation(client, "alice") for _ in range(3)]

    def position(generation_id: str) -> object:
        response = client.get(f"/api/generations/{generation_id}", headers=bearer("alice"))
        return response.json()["data"]["queuePosition"]

    assert [position(i) for i in ids] == [1, 2, 3]
    cancel(atelier, UUID(ids[0]))
    assert [position(i) for i in ids] == [None, 1, 2]
    start(atelier, UUID(ids[1]))
    assert [position(i) for i in ids] == [None, None, 1]


def test_admins_and_workers_read_the_queue_without_an_account(client: TestClient) -> None:
    assert queue(client, "root", "admin")["depth"] == 0
    assert queue(client, "worker-1", "worker")["capacity"] == 7


def test_the_queue_needs_credentials_and_an_enabled_account(client: TestClient) -> None:
    missing = client.get("/api/queue")
    assert (missing.status_code, missing.json()["code"]) == (401, "AUTHENTICATION_REQUIRED")
    forged = client.get("/api/queue", headers={"Authorization": "Bearer a.b.c"})
    assert (forged.status_code, forged.json()["code"]) == (401, "AUTHENTICATION_REQUIRED")
    unknown = client.get("/api/queue", headers=bearer("nobody"))
    assert (unknown.status_code, unknown.json()["error"]) == (401, "User not found")
    open_account(client, "alice", tokens=100)
    client.post(
        "/api/admin/accounts/alice/disable", json={"reason": "x"}, headers=bearer("root", "admin")
    )
    disabled = client.get("/api/queue", headers=bearer("alice"))
    assert (disabled.status_code, disabled.json()["code"]) == (403, "ACCOUNT_DISABLED")
    wrong_method = client.post("/api/queue", headers=bearer("root", "admin"))
    assert wrong_method.status_code == 405
