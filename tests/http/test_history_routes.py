"""GET /api/generations/{id}/events, GET /api/admin/accounts/{userId}/events, and
GET /api/admin/accounts/{userId}?version=N: histories and time travel over HTTP."""

from __future__ import annotations

import re
from typing import Any

import pytest
from starlette.testclient import TestClient

from tests.support.builders import bearer, generation_body
from tests.support.clients import open_account

ADMIN = bearer("root", "admin")
ISO = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")


def submitted(client: TestClient, user_id: str = "alice", **changes: Any) -> str:
    response = client.post(
        "/api/generate", json=generation_body(**changes), headers=bearer(user_id)
    )
    assert response.status_code == 201, response.text
    generation_id: str = response.json()["data"]["_id"]
    return generation_id


def test_the_owner_gets_the_generations_events_oldest_first(client: TestClient) -> None:
    open_account(client, "alice", 10)
    generation_id = submitted(client, customPrompt="on a beach", quality="high")
    cancel = client.post(f"/api/generations/{generation_id}/cancel", headers=bearer("alice"))
    assert cancel.status_code == 200, cancel.text
    response = client.get(f"/api/generations/{generation_id}/events", headers=bearer("alice"))
    assert response.status_code == 200
    body = response.json()
    assert body["success"] is True
    assert body["nextCursor"] is None
    history = body["data"]
    assert [(e["type"], e["version"]) for e in history] == [
        ("GenerationRequested", 1),
        ("ImageLinked", 2),
        ("GenerationCancelled", 3),
    ]
    assert all(ISO.match(e["timestamp"]) for e in history)
    requested = history[0]["data"]
    assert requested["userId"] == "alice"
    assert requested["tokenCost"] == 2
    assert requested["customPrompt"] == "on a beach"
    assert requested["parameters"]["guidance_scale"] == 7.5  # kept as the client sends it
    assert ISO.match(requested["requestedAt"])
    assert history[1]["data"]["publicId"] == "shirts/blue-oxford"
    assert ISO.match(history[2]["data"]["at"])


@pytest.mark.parametrize("path", ["{id}", "00000000-0000-0000-0000-000000000000", "not-a-uuid"])
def test_anyone_but_the_owner_gets_404(client: TestClient, path: str) -> None:
    open_account(client, "alice", 10)
    open_account(client, "bob", 10)
    generation_id = submitted(client)
    target = path.format(id=generation_id)
    response = client.get(f"/api/generations/{target}/events", headers=bearer("bob"))
    assert (response.status_code, response.json()["code"]) == (404, "NOT_FOUND")


def test_generation_events_need_credentials(client: TestClient) -> None:
    response = client.get("/api/generations/00000000-0000-0000-0000-000000000000/events")
    assert response.status_code == 401


def test_an_admin_pages_through_an_accounts_events(client: TestClient) -> None:
    open_account(client, "alice", 1)
    for amount in (2, 3, 4):
        granted = client.post(
            "/api/admin/accounts/alice/grants",
            json={"amount": amount, "reason": "top-up"},
            headers=ADMIN,
        )
        assert granted.status_code == 201
    first = client.get("/api/admin/accounts/alice/events?limit=3", headers=ADMIN).json()
    assert [e["type"] for e in first["data"]] == [
        "AccountOpened",
        "TokensGranted",
        "TokensGranted",
    ]
    assert first["data"][0]["data"]["tokens"] == 1
    assert first["nextCursor"]
    rest = client.get(
        f"/api/admin/accounts/alice/events?limit=3&cursor={first['nextCursor']}", headers=ADMIN
    ).json()
    assert [(e["version"], e["data"]["amount"]) for e in rest["data"]] == [(4, 4)]
    assert rest["nextCursor"] is None


def test_account_events_are_for_admins_of_existing_accounts(client: TestClient) -> None:
    open_account(client, "alice", 1)
    mine = client.get("/api/admin/accounts/alice/events", headers=bearer("alice"))
    assert (mine.status_code, mine.json()["code"]) == (403, "FORBIDDEN")
    ghost = client.get("/api/admin/accounts/ghost/events", headers=ADMIN)
    assert (ghost.status_code, ghost.json()["code"]) == (404, "NOT_FOUND")


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("limit=0", "limit"),
        ("limit=1001", "limit"),
        ("cursor=nope", "cursor"),
        ("cursor=ZTE6OTk5OTk5OTk5OTk5OTk5OTk5OQ", "cursor"),  # e1: and 19 digits
        ("x=1", "x"),
    ],
)
def test_bad_paging_parameters_are_400(client: TestClient, query: str, field: str) -> None:
    open_account(client, "alice", 1)
    response = client.get(f"/api/admin/accounts/alice/events?{query}", headers=ADMIN)
    assert (response.status_code, response.json()["code"]) == (400, "VALIDATION_ERROR")
    assert [p["field"] for p in response.json()["validationErrors"]] == [field]


def test_the_account_as_it_was_at_a_version(client: TestClient) -> None:
    open_account(client, "alice", 3)
    submitted(client)  # version 2: one token reserved
    client.post(
        "/api/admin/accounts/alice/grants", json={"amount": 10, "reason": "x"}, headers=ADMIN
    )
    then = client.get("/api/admin/accounts/alice?version=2", headers=ADMIN).json()["data"]
    assert (then["version"], then["balance"], then["reserved"], then["available"]) == (2, 3, 1, 2)
    now = client.get("/api/admin/accounts/alice", headers=ADMIN).json()["data"]
    assert (now["version"], now["balance"], now["available"]) == (3, 13, 12)


@pytest.mark.parametrize(
    ("path", "status", "code"),
    [
        ("alice?version=4", 404, "NOT_FOUND"),
        ("ghost?version=1", 404, "NOT_FOUND"),
        ("alice?version=0", 400, "VALIDATION_ERROR"),
        ("alice?version=-1", 400, "VALIDATION_ERROR"),
        ("alice?version=two", 400, "VALIDATION_ERROR"),
    ],
)
def test_time_travel_to_no_such_version_or_a_bad_one(
    client: TestClient, path: str, status: int, code: str
) -> None:
    open_account(client, "alice", 3)
    response = client.get(f"/api/admin/accounts/{path}", headers=ADMIN)
    assert (response.status_code, response.json()["code"]) == (status, code)
