"""The HTTP app on a SQLite file, driven through Starlette's TestClient (lifespan included)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from starlette.testclient import TestClient

from tests.conftest import SettingsFactory
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
