"""The HTTP app on a SQLite file, driven through Starlette's TestClient (lifespan included)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from starlette.testclient import TestClient

from application.service import Atelier
from tests.conftest import SettingsFactory
from tests.helpers import bearer
from web.asgi import app_from_settings

ClientFactory = Callable[..., TestClient]


@pytest.fixture
def make_client(sqlite_only: SettingsFactory) -> Iterator[ClientFactory]:
    """Build a client with setting overrides (`make_client(queue_max_size=1)`)."""
    clients: list[TestClient] = []

    def factory(**overrides: Any) -> TestClient:
        client = TestClient(
            app_from_settings(sqlite_only(**overrides)), raise_server_exceptions=False
        )
        client.__enter__()
        clients.append(client)
        return client

    yield factory
    for client in clients:
        client.__exit__(None, None, None)


@pytest.fixture
def client(make_client: ClientFactory) -> TestClient:
    return make_client()


def atelier(client: TestClient) -> Atelier:
    app: Atelier = client.app.state.atelier  # type: ignore[attr-defined]
    return app


def stored_events(client: TestClient) -> int:
    """How many events the store holds: a refused request must not change it."""
    return atelier(client).recorder.max_notification_id() or 0


def open_account(client: TestClient, user_id: str, tokens: int = 10) -> None:
    response = client.post(
        "/api/admin/accounts",
        json={"userId": user_id, "tokens": tokens},
        headers=bearer("root", "admin"),
    )
    assert response.status_code == 201, response.text
