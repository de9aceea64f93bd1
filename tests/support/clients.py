"""The HTTP app through Starlette's TestClient: its application, its store, and the requests
most tests make first (opening an account, submitting)."""

from __future__ import annotations

from typing import Any

from starlette.testclient import TestClient

from application.service import Atelier
from tests.support.builders import admin, bearer, generation_body


def atelier(client: TestClient) -> Atelier:
    app: Atelier = client.app.state.atelier  # type: ignore[attr-defined]
    return app


def stored_events(client: TestClient) -> int:
    """How many events the store holds: a refused request must not change it."""
    return atelier(client).recorder.max_notification_id() or 0


def open_account(client: TestClient, user_id: str, tokens: int = 10) -> None:
    response = client.post(
        "/api/admin/accounts", json={"userId": user_id, "tokens": tokens}, headers=admin()
    )
    assert response.status_code == 201, response.text


def post_generation(client: TestClient, user_id: str, **changes: Any) -> str:
    """Submit a valid generation (with `changes`) over HTTP; its id."""
    response = client.post(
        "/api/generate", json=generation_body(**changes), headers=bearer(user_id)
    )
    assert response.status_code == 201, response.text
    return str(response.json()["data"]["_id"])
