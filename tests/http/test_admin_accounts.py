"""Admin routes for accounts: open, show, grant (idempotently), disable and enable."""

from __future__ import annotations

from typing import Any

import pytest
from starlette.testclient import TestClient

from tests.support.builders import bearer, generation_body
from tests.support.clients import stored_events

ADMIN = bearer("root", "admin")


def post(client: TestClient, path: str, body: Any, **headers: str) -> Any:
    return client.post(path, json=body, headers={**ADMIN, **headers})


def test_open_account_answers_201_with_location(client: TestClient) -> None:
    response = post(client, "/api/admin/accounts", {"userId": "alice", "tokens": 25})
    assert response.status_code == 201
    assert response.headers["location"] == "/api/admin/accounts/alice"
    data = response.json()["data"]
    assert (
        data["userId"],
        data["balance"],
        data["available"],
        data["status"],
        data["version"],
    ) == ("alice", 25, 25, "active", 1)


def test_tokens_default_to_zero(client: TestClient) -> None:
    assert post(client, "/api/admin/accounts", {"userId": "a"}).json()["data"]["balance"] == 0


def test_opening_an_existing_account_is_409(client: TestClient) -> None:
    post(client, "/api/admin/accounts", {"userId": "alice", "tokens": 1})
    before = stored_events(client)
    response = post(client, "/api/admin/accounts", {"userId": "alice", "tokens": 9})
    assert (response.status_code, response.json()["code"]) == (409, "ACCOUNT_EXISTS")
    assert stored_events(client) == before


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({}, "userId"),
        ({"userId": ""}, "userId"),
        ({"userId": "has space"}, "userId"),
        ({"userId": "x" * 129}, "userId"),
        ({"userId": "ok", "tokens": -1}, "tokens"),
        ({"userId": "ok", "tokens": 1_000_001}, "tokens"),
        ({"userId": "ok", "tokens": "5"}, "tokens"),
        ({"userId": "ok", "balance": 5}, "balance"),
    ],
)
def test_open_account_validation(client: TestClient, body: dict[str, Any], field: str) -> None:
    response = post(client, "/api/admin/accounts", body)
    assert (response.status_code, response.json()["code"]) == (400, "VALIDATION_ERROR")
    assert [e["field"] for e in response.json()["validationErrors"]] == [field]
    assert stored_events(client) == 0


def test_show_account_now_and_at_a_version(client: TestClient) -> None:
    post(client, "/api/admin/accounts", {"userId": "alice", "tokens": 1})
    post(client, "/api/admin/accounts/alice/grants", {"amount": 9, "reason": "promo"})
    now = client.get("/api/admin/accounts/alice", headers=ADMIN).json()["data"]
    then = client.get("/api/admin/accounts/alice?version=1", headers=ADMIN).json()["data"]
    assert (now["balance"], now["version"]) == (10, 2)
    assert (then["balance"], then["version"]) == (1, 1)


@pytest.mark.parametrize(
    ("query", "status"), [("version=0", 400), ("version=x", 400), ("version=99", 404)]
)
def test_show_account_bad_versions(client: TestClient, query: str, status: int) -> None:
    post(client, "/api/admin/accounts", {"userId": "alice", "tokens": 1})
    assert client.get(f"/api/admin/accounts/alice?{query}", headers=ADMIN).status_code == status


def test_unknown_account_is_404_for_admins(client: TestClient) -> None:
    for response in (
        client.get("/api/admin/accounts/ghost", headers=ADMIN),
        post(client, "/api/admin/accounts/ghost/grants", {"amount": 1, "reason": "x"}),
        post(client, "/api/admin/accounts/ghost/disable", {"reason": "x"}),
        post(client, "/api/admin/accounts/ghost/enable", {}),
    ):
        assert (response.status_code, response.json()["code"]) == (404, "NOT_FOUND")


def test_grants_add_tokens_and_replay_with_the_same_key(client: TestClient) -> None:
    post(client, "/api/admin/accounts", {"userId": "alice", "tokens": 0})
    first = post(
        client,
        "/api/admin/accounts/alice/grants",
        {"amount": 50, "reason": "promo"},
        **{"Idempotency-Key": "grant-1"},
    )
    assert first.status_code == 201 and first.json()["data"]["balance"] == 50
    post(client, "/api/admin/accounts/alice/grants", {"amount": 5, "reason": "other"})
    before = stored_events(client)
    again = post(
        client,
        "/api/admin/accounts/alice/grants",
        {"amount": 50, "reason": "promo"},
        **{"Idempotency-Key": "grant-1"},
    )
    assert again.status_code == 201
    assert again.headers["idempotent-replayed"] == "true"
    assert again.json() == first.json()
    assert stored_events(client) == before
    reused = post(
        client,
        "/api/admin/accounts/alice/grants",
        {"amount": 60, "reason": "promo"},
        **{"Idempotency-Key": "grant-1"},
    )
    assert (reused.status_code, reused.json()["code"]) == (422, "IDEMPOTENCY_KEY_REUSED")
    assert client.get("/api/admin/accounts/alice", headers=ADMIN).json()["data"]["balance"] == 55


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"amount": 0, "reason": "x"}, "amount"),
        ({"amount": 1_000_001, "reason": "x"}, "amount"),
        ({"amount": 1.5, "reason": "x"}, "amount"),
        ({"amount": 5}, "reason"),
        ({"amount": 5, "reason": ""}, "reason"),
    ],
)
def test_grant_validation(client: TestClient, body: dict[str, Any], field: str) -> None:
    post(client, "/api/admin/accounts", {"userId": "alice"})
    before = stored_events(client)
    response = post(client, "/api/admin/accounts/alice/grants", body)
    assert (response.status_code, response.json()["code"]) == (400, "VALIDATION_ERROR")
    assert [e["field"] for e in response.json()["validationErrors"]] == [field]
    assert stored_events(client) == before


def test_disable_then_enable(client: TestClient) -> None:
    post(client, "/api/admin/accounts", {"userId": "alice", "tokens": 3})
    disabled = post(client, "/api/admin/accounts/alice/disable", {"reason": "chargeback"})
    assert disabled.status_code == 200
    assert (disabled.json()["data"]["status"], disabled.json()["data"]["disabledReason"]) == (
        "disabled",
        "chargeback",
    )
    user = bearer("alice")
    assert client.post("/api/generate", json=generation_body(), headers=user).status_code == 403
    assert post(client, "/api/admin/accounts/alice/enable", {}).json()["data"]["status"] == (
        "active"
    )
    assert client.post("/api/generate", json=generation_body(), headers=user).status_code == 201


def test_disable_needs_a_reason(client: TestClient) -> None:
    post(client, "/api/admin/accounts", {"userId": "alice"})
    response = post(client, "/api/admin/accounts/alice/disable", {})
    assert [e["field"] for e in response.json()["validationErrors"]] == ["reason"]


@pytest.mark.parametrize("version", ["%C2%B2", "9223372036854775808", "99999999999999999999999"])
def test_versions_no_store_could_hold_are_validation_errors(
    client: TestClient, version: str
) -> None:
    post(client, "/api/admin/accounts", {"userId": "alice", "tokens": 1})
    response = client.get(f"/api/admin/accounts/alice?version={version}", headers=ADMIN)
    assert (response.status_code, response.json()["code"]) == (400, "VALIDATION_ERROR")
