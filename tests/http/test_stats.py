"""GET /api/admin/stats: dashboard totals, the queue, and each projection's position and lag."""

from __future__ import annotations

from collections.abc import Iterator
from uuid import UUID

import pytest
from starlette.testclient import TestClient

from domain.circuit import FAILURE_THRESHOLD
from tests.conftest import SettingsFactory
from tests.support.builders import bearer
from tests.support.clients import atelier as atelier_of
from tests.support.clients import open_account, post_generation
from tests.support.read_side import cancel, complete, expire, fail, serving, start

PROJECTIONS = [
    "pending_queue",
    "rate_limits",
    "user_generations",
    "images",
    "dashboard_totals",
    "activity",
    "webhooks",
]


@pytest.fixture
def client(make_settings: SettingsFactory) -> Iterator[TestClient]:
    with serving(make_settings(queue_max_size=9)) as client:
        yield client


def stats(client: TestClient) -> dict[str, object]:
    response = client.get("/api/admin/stats", headers=bearer("root", "admin"))
    assert response.status_code == 200, response.text
    data: dict[str, object] = response.json()["data"]
    return data


def test_stats_of_an_empty_store(client: TestClient) -> None:
    data = stats(client)
    assert data["generations"] == dict.fromkeys(
        ("pending", "processing", "completed", "failed", "cancelled", "expired"), 0
    )
    assert data["tokens"] == {"granted": 0, "reserved": 0, "captured": 0, "released": 0}
    assert data["queue"] == {"depth": 0, "capacity": 9, "processing": 0, "oldestPendingAt": None}
    assert data["projections"] == [{"name": n, "position": 0, "lag": 0} for n in PROJECTIONS]
    assert data["webhooks"] == {"pending": 0, "succeeded": 0, "failed": 0}
    assert data["generator"] == {"name": "dry-run", "circuit": "closed"}


def test_stats_count_generations_and_tokens_after_a_mixed_workload(client: TestClient) -> None:
    open_account(client, "alice", tokens=20)
    open_account(client, "bob", tokens=3)
    granted = client.post(
        "/api/admin/accounts/bob/grants",
        json={"amount": 5, "reason": "welcome"},
        headers=bearer("root", "admin"),
    )
    assert granted.status_code == 201
    atelier = atelier_of(client)
    ids = [UUID(post_generation(client, "alice", quality="high")) for _ in range(5)]  # 2 each
    ids.append(UUID(post_generation(client, "bob")))  # 1
    start(atelier, ids[0])
    complete(atelier, ids[0])  # captured 2
    start(atelier, ids[1])
    fail(atelier, ids[1])  # released 2
    cancel(atelier, ids[2])  # released 2
    expire(atelier, ids[3])  # released 2
    start(atelier, ids[4])  # processing; ids[5] stays pending

    data = stats(client)
    assert data["generations"] == {
        "pending": 1,
        "processing": 1,
        "completed": 1,
        "failed": 1,
        "cancelled": 1,
        "expired": 1,
    }
    # granted 20 + 3 + 5; reserved 5 x 2 + 1 = 11, less captured 2 and released 6.
    assert data["tokens"] == {"granted": 28, "reserved": 3, "captured": 2, "released": 6}
    queue = client.get("/api/queue", headers=bearer("alice")).json()["data"]
    assert data["queue"] == queue
    assert (queue["depth"], queue["processing"]) == (1, 1)
    head = atelier.recorder.max_notification_id()
    projections = data["projections"]
    assert isinstance(projections, list)
    assert [p["name"] for p in projections] == PROJECTIONS
    assert all(p["position"] + p["lag"] == head for p in projections)  # as it is, no waiting
    waited_on = {p["name"]: p["lag"] for p in projections if p["name"] in PROJECTIONS[::4]}
    assert waited_on == {"pending_queue": 0, "dashboard_totals": 0}  # the figures above


def test_stats_are_for_admins_only(client: TestClient) -> None:
    open_account(client, "alice", tokens=100)
    missing = client.get("/api/admin/stats")
    assert (missing.status_code, missing.json()["code"]) == (401, "AUTHENTICATION_REQUIRED")
    for who, role in (("alice", "user"), ("worker-1", "worker")):
        refused = client.get("/api/admin/stats", headers=bearer(who, role))
        assert (refused.status_code, refused.json()["code"]) == (403, "FORBIDDEN")


def test_stats_show_the_generators_circuit_as_every_worker_process_recorded_it(
    make_settings: SettingsFactory,
) -> None:
    with serving(make_settings(generator="openai")) as client:
        atelier = atelier_of(client)
        for _ in range(FAILURE_THRESHOLD - 1):
            atelier.record_generator_outcome("openai", upstream_healthy=False)
        assert stats(client)["generator"] == {"name": "openai", "circuit": "closed"}
        atelier.record_generator_outcome("openai", upstream_healthy=False)
        assert stats(client)["generator"] == {"name": "openai", "circuit": "open"}
        atelier.record_generator_outcome("openai", upstream_healthy=True)
        assert stats(client)["generator"] == {"name": "openai", "circuit": "closed"}
