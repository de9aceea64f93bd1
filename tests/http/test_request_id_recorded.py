"""POST /api/generate records the request's X-Request-ID with the generation it accepts."""

from __future__ import annotations

from uuid import UUID

from starlette.testclient import TestClient

from domain.generations import Generation
from tests.support.builders import bearer, generation_body
from tests.support.clients import atelier, open_account


def test_the_generation_records_the_request_id_it_was_submitted_with(client: TestClient) -> None:
    open_account(client, "alice")
    headers = {**bearer("alice"), "X-Request-ID": "req-from-client-1"}
    response = client.post("/api/generate", json=generation_body(), headers=headers)
    assert response.status_code == 201, response.text
    assert response.headers["X-Request-ID"] == "req-from-client-1"
    generation: Generation = atelier(client).repository.get(UUID(response.json()["data"]["_id"]))
    assert generation.request_id == "req-from-client-1"

    unnamed = client.post("/api/generate", json=generation_body(), headers=bearer("alice"))
    made_up = unnamed.headers["X-Request-ID"]  # the service names a request that came unnamed
    other: Generation = atelier(client).repository.get(UUID(unnamed.json()["data"]["_id"]))
    assert other.request_id == made_up
