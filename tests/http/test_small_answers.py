"""An error answer stays small whatever the request: at most 20 `validationErrors`, and
`details` says how many were left out."""

from __future__ import annotations

import json

from starlette.testclient import TestClient

from tests.support.builders import admin, bearer, generation_body
from tests.support.clients import open_account, stored_events


def test_a_body_of_81000_unknown_keys_answers_small(client: TestClient) -> None:
    open_account(client, "alice", 5)
    body = generation_body()
    body.update({f"k{n}": 0 for n in range(81_000)})
    raw = json.dumps(body, separators=(",", ":")).encode()
    assert len(raw) < 1024 * 1024
    before = stored_events(client)
    response = client.post(
        "/api/generate",
        content=raw,
        headers={**bearer("alice"), "Content-Type": "application/json"},
    )
    assert response.status_code == 400
    assert len(response.content) < 4096
    error = response.json()
    assert error["code"] == "VALIDATION_ERROR"
    assert [item["field"] for item in error["validationErrors"]] == [f"k{n}" for n in range(20)]
    assert error["details"] == "80980 more validation errors were left out."
    assert stored_events(client) == before


def test_twenty_problems_are_all_shown_with_no_note(client: TestClient) -> None:
    body = {"amount": 1, "reason": "gift", **{f"k{n}": 0 for n in range(18)}}
    response = client.post("/api/admin/accounts", json={"userId": "a", **body}, headers=admin())
    error = response.json()
    assert len(error["validationErrors"]) == 20
    assert "details" not in error


def test_the_cap_holds_on_every_body_route(client: TestClient) -> None:
    body = {f"k{n}": 0 for n in range(500)}
    response = client.post("/api/admin/accounts", json=body, headers=admin())
    error = response.json()
    assert len(error["validationErrors"]) == 20
    assert error["details"] == "481 more validation errors were left out."
