"""GET /api/generations/{id}: the owner sees the whole generation; nobody else sees it exists."""

from __future__ import annotations

import pytest
from starlette.testclient import TestClient

from tests.support.builders import bearer, generation_body
from tests.support.clients import open_account

FIELDS = {
    "_id",
    "userId",
    "status",
    "productImages",
    "modelImages",
    "images",
    "style",
    "aspectRatio",
    "quality",
    "model",
    "customPrompt",
    "parameters",
    "prompt",
    "tokenCost",
    "createdAt",
    "updatedAt",
    "startedAt",
    "completedAt",
    "resultImages",
    "error",
    "queuePosition",
}


def submit(client: TestClient, user: str = "alice") -> str:
    response = client.post("/api/generate", json=generation_body(), headers=bearer(user))
    assert response.status_code == 201
    return str(response.json()["data"]["_id"])


def test_owner_reads_the_whole_generation(client: TestClient) -> None:
    open_account(client, "alice")
    generation_id = submit(client)
    response = client.get(f"/api/generations/{generation_id}", headers=bearer("alice"))
    assert response.status_code == 200
    data = response.json()["data"]
    assert set(data) == FIELDS
    assert (data["_id"], data["userId"], data["status"], data["tokenCost"]) == (
        generation_id,
        "alice",
        "pending",
        1,
    )
    assert data["createdAt"] == data["updatedAt"]
    assert data["startedAt"] is None and data["completedAt"] is None
    assert data["resultImages"] == [] and data["error"] is None


@pytest.mark.parametrize(
    "path_id",
    ["11111111-2222-3333-4444-555555555555", "not-a-uuid", "d2a0c7a6"],
)
def test_unknown_ids_are_404(client: TestClient, path_id: str) -> None:
    open_account(client, "alice")
    response = client.get(f"/api/generations/{path_id}", headers=bearer("alice"))
    assert response.status_code == 404
    assert response.json()["code"] == "NOT_FOUND"


def test_another_users_generation_looks_exactly_like_an_unknown_one(client: TestClient) -> None:
    open_account(client, "alice")
    open_account(client, "mallory")
    generation_id = submit(client)
    foreign = client.get(f"/api/generations/{generation_id}", headers=bearer("mallory"))
    unknown = client.get(
        "/api/generations/11111111-2222-3333-4444-555555555555", headers=bearer("mallory")
    )
    assert foreign.status_code == unknown.status_code == 404
    assert foreign.json()["error"] == unknown.json()["error"]


def test_account_route_shows_tokens_and_the_rate_window(client: TestClient) -> None:
    open_account(client, "alice", 4)
    submit(client)
    response = client.get("/api/account", headers=bearer("alice"))
    data = response.json()["data"]
    assert set(data) == {"userId", "status", "balance", "reserved", "available", "rateLimit"}
    assert (
        data["userId"],
        data["status"],
        data["balance"],
        data["reserved"],
        data["available"],
    ) == ("alice", "active", 4, 1, 3)
    assert set(data["rateLimit"]) == {"limit", "used", "remaining", "resetAt"}
    assert (
        data["rateLimit"]["limit"],
        data["rateLimit"]["used"],
        data["rateLimit"]["remaining"],
    ) == (10, 1, 9)
    assert data["rateLimit"]["resetAt"].endswith("Z")
