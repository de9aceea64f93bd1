"""Defects Schemathesis found (tests/integration/test_fuzzing.py, bench/fuzz.py), each kept
here as the request that found it: a documented refusal now, and nothing stored."""

from __future__ import annotations

import pytest
from starlette.testclient import TestClient

from tests.support.builders import bearer, generation_body, image_url
from tests.support.clients import open_account, post_generation, stored_events

WORKER = bearer("w", "worker")
UNBALANCED = [
    "https://res.cloudinary.com[/demo/image/upload/a.jpg",
    "https://[::1/x/image/upload/a",
]


@pytest.mark.parametrize("url", UNBALANCED)
def test_an_image_url_with_an_unbalanced_bracket_is_an_image_validation_error(
    client: TestClient, url: str
) -> None:
    """It was a 500: urlsplit raises ValueError on `[` or `]` around the host."""
    open_account(client, "alice")
    before = stored_events(client)
    body = generation_body(productImages=[image_url(), url])
    refused = client.post("/api/generate", json=body, headers=bearer("alice"))
    assert refused.status_code == 400, refused.text
    assert refused.json()["code"] == "IMAGE_VALIDATION_ERROR"
    assert refused.json()["validationErrors"] == [
        {"field": "productImages.1", "message": "Image URL is not a valid URL"}
    ]
    assert stored_events(client) == before


def test_a_result_url_with_an_unbalanced_bracket_is_a_validation_error(client: TestClient) -> None:
    """It was a 500 on complete, found by the stateful phase: the same urlsplit ValueError."""
    open_account(client, "alice")
    generation_id = post_generation(client, "alice")
    assert client.post("/api/worker/claim", json={"workerId": "w1"}, headers=WORKER).is_success
    before = stored_events(client)
    refused = client.post(
        f"/api/worker/generations/{generation_id}/complete",
        json={"workerId": "w1", "resultImages": ["https://cdn.example.com/a.png", "https://â["]},
        headers=WORKER,
    )
    assert refused.status_code == 400, refused.text
    assert refused.json()["validationErrors"] == [
        {"field": "resultImages.1", "message": "Result image URL is not a valid URL"}
    ]
    assert stored_events(client) == before
    shown = client.get(f"/api/generations/{generation_id}", headers=bearer("alice"))
    assert shown.json()["data"]["status"] == "processing"
