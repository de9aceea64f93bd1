"""POST /api/generations/{id}/cancel: the owner's pending or processing generation, on both
stores."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any
from uuid import uuid4

import pytest
from starlette.testclient import TestClient

from tests.conftest import SettingsFactory
from tests.support.builders import bearer
from tests.support.clients import (
    open_account as open_account_over_http,
)
from tests.support.clients import (
    post_generation as submit_over_http,
)
from tests.support.clock import Clock
from tests.support.lifecycle import lifecycle_client


@pytest.fixture
def client(make_settings: SettingsFactory) -> Iterator[TestClient]:
    with lifecycle_client(make_settings(), Clock()) as served:
        open_account_over_http(served, "alice", 10)
        open_account_over_http(served, "bob", 10)
        yield served


def cancel(client: TestClient, gid: str, user_id: str = "alice", **kwargs: Any) -> Any:
    return client.post(f"/api/generations/{gid}/cancel", headers=bearer(user_id), **kwargs)


def account(client: TestClient, user_id: str = "alice") -> dict[str, Any]:
    data: dict[str, Any] = client.get("/api/account", headers=bearer(user_id)).json()["data"]
    return data


def test_cancelling_a_pending_generation_releases_its_tokens_and_its_queue_place(
    client: TestClient,
) -> None:
    gid = submit_over_http(client, "alice", quality="ultra")
    assert account(client)["available"] == 8

    response = cancel(client, gid)

    assert response.status_code == 200
    data = response.json()["data"]
    assert (data["_id"], data["status"], data["queuePosition"]) == (gid, "cancelled", None)
    assert data["completedAt"] is not None
    held = account(client)
    assert (held["balance"], held["reserved"], held["available"]) == (10, 0, 10)
    claimed = client.post(
        "/api/worker/claim", json={"workerId": "w"}, headers=bearer("fleet", "worker")
    )
    assert claimed.status_code == 204  # it left the queue


def test_an_empty_json_body_is_accepted_and_other_fields_are_not(client: TestClient) -> None:
    gid = submit_over_http(client, "alice")
    refused = cancel(client, gid, json={"status": "completed"})
    assert refused.status_code == 400
    assert refused.json()["validationErrors"][0]["field"] == "status"
    assert cancel(client, gid, json={}).status_code == 200


def test_another_users_generation_is_not_found_exactly_like_an_unknown_one(
    client: TestClient,
) -> None:
    gid = submit_over_http(client, "alice")

    foreign = cancel(client, gid, "bob")
    unknown = cancel(client, str(uuid4()), "bob")
    malformed = cancel(client, "nope", "bob")

    for response in (foreign, unknown, malformed):
        assert response.status_code == 404
        body = response.json()
        assert (body["code"], body["error"]) == ("NOT_FOUND", "Generation not found")
    assert account(client)["reserved"] == 1
    owner_view = client.get(f"/api/generations/{gid}", headers=bearer("alice")).json()["data"]
    assert owner_view["status"] == "pending"


def test_cancelling_a_processing_generation_tells_its_worker_at_its_next_heartbeat(
    client: TestClient,
) -> None:
    """API.md: cancelled, tokens released; the worker's heartbeat says so, its results get 409."""
    gid = submit_over_http(client, "alice", quality="ultra")
    worker = bearer("fleet", "worker")
    client.post("/api/worker/claim", json={"workerId": "w"}, headers=worker)

    response = cancel(client, gid)

    assert response.status_code == 200
    assert response.json()["data"]["status"] == "cancelled"
    held = account(client)
    assert (held["balance"], held["reserved"], held["available"]) == (10, 0, 10)
    worker_path = f"/api/worker/generations/{gid}"
    beat = client.post(f"{worker_path}/heartbeat", json={"workerId": "w"}, headers=worker)
    assert beat.status_code == 200
    assert beat.json()["data"] == {
        "_id": gid,
        "workerId": "w",
        "leaseExpiresAt": None,
        "cancelled": True,
    }
    results = {"workerId": "w", "resultImages": ["https://cdn.example.com/r.png"]}
    for path, body in (("complete", results), ("fail", {"workerId": "w", "reason": "x"})):
        late = client.post(f"{worker_path}/{path}", json=body, headers=worker)
        assert late.status_code == 409 and late.json()["code"] == "INVALID_STATE"
    assert account(client) == held
    stats = client.get("/api/admin/stats", headers=bearer("root", "admin")).json()["data"]
    assert (stats["generations"]["processing"], stats["generations"]["cancelled"]) == (0, 1)


@pytest.mark.parametrize("state", ["completed", "failed", "cancelled"])
def test_only_a_pending_or_processing_generation_can_be_cancelled(
    client: TestClient, state: str
) -> None:
    gid = submit_over_http(client, "alice")
    worker = bearer("fleet", "worker")
    if state != "cancelled":
        client.post("/api/worker/claim", json={"workerId": "w"}, headers=worker)
    if state == "completed":
        client.post(
            f"/api/worker/generations/{gid}/complete",
            json={"workerId": "w", "resultImages": ["https://cdn.example.com/r.png"]},
            headers=worker,
        )
    elif state == "failed":
        body = {"workerId": "w", "reason": "x"}
        client.post(f"/api/worker/generations/{gid}/fail", json=body, headers=worker)
    elif state == "cancelled":
        assert cancel(client, gid).status_code == 200
    before = account(client)

    response = cancel(client, gid)

    assert response.status_code == 409
    body = response.json()
    assert body["code"] == "INVALID_STATE"
    assert "pending" in body["error"]
    assert account(client) == before


def test_cancel_needs_an_enabled_account(client: TestClient) -> None:
    gid = submit_over_http(client, "alice")
    assert client.post(f"/api/generations/{gid}/cancel").status_code == 401
    client.post(
        "/api/admin/accounts/alice/disable",
        json={"reason": "abuse"},
        headers=bearer("root", "admin"),
    )
    disabled = cancel(client, gid)
    assert disabled.status_code == 403
    assert disabled.json()["code"] == "ACCOUNT_DISABLED"
