"""POST /api/generate: the 201 answer and what it records."""

from __future__ import annotations

import pytest
from starlette.testclient import TestClient

from tests.http.conftest import ClientFactory
from tests.support.builders import bearer, generation_body, image_url
from tests.support.clients import atelier, open_account, stored_events

SECURITY_HEADERS = {
    "x-content-type-options": "nosniff",
    "x-frame-options": "DENY",
    "x-xss-protection": "1; mode=block",
    "referrer-policy": "strict-origin-when-cross-origin",
    "cache-control": "no-store",
}


def test_accepted_submission_answers_201_with_the_plans_shape(client: TestClient) -> None:
    open_account(client, "alice", 5)
    response = client.post(
        "/api/generate", json=generation_body(quality="high"), headers=bearer("alice")
    )
    assert response.status_code == 201
    assert response.headers["content-type"] == "application/json; charset=utf-8"
    body = response.json()
    assert set(body) == {"success", "data"} and body["success"] is True
    data = body["data"]
    assert set(data) == {"_id", "status", "estimatedCost", "estimatedTime", "queuePosition"}
    assert (data["status"], data["estimatedCost"], data["estimatedTime"]) == (
        "pending",
        2,
        "1-2 minutes",
    )
    assert data["queuePosition"] == 1
    assert response.headers["location"] == f"/api/generations/{data['_id']}"
    assert response.headers["ratelimit-limit"] == "10"
    assert response.headers["ratelimit-remaining"] == "9"
    assert 3599 <= int(response.headers["ratelimit-reset"]) <= 3600
    for name, value in SECURITY_HEADERS.items():
        assert response.headers[name] == value
    account = client.get("/api/account", headers=bearer("alice")).json()["data"]
    assert (account["balance"], account["reserved"], account["available"]) == (5, 2, 3)


@pytest.mark.parametrize(
    ("quality", "cost", "time"),
    [("standard", 1, "30-60 seconds"), ("high", 2, "1-2 minutes"), ("ultra", 2, "2-3 minutes")],
)
def test_cost_and_time_follow_quality(
    client: TestClient, quality: str, cost: int, time: str
) -> None:
    open_account(client, "alice", 5)
    data = client.post(
        "/api/generate", json=generation_body(quality=quality), headers=bearer("alice")
    ).json()["data"]
    assert (data["estimatedCost"], data["estimatedTime"]) == (cost, time)


def test_queue_position_is_the_fifo_place_among_pending(client: TestClient) -> None:
    for user in ("alice", "bob"):
        open_account(client, user)
    positions = [
        client.post("/api/generate", json=generation_body(), headers=bearer(user)).json()["data"][
            "queuePosition"
        ]
        for user in ("alice", "bob", "bob")
    ]
    assert positions == [1, 2, 3]


def test_the_generation_records_its_prompt_and_linked_images(client: TestClient) -> None:
    open_account(client, "alice")
    body = generation_body(
        productImages=[image_url("shirts/blue-oxford"), image_url("shirts/back")],
        modelImages=["https://res.cloudinary.com/demo/image/upload/models/ana.png"],
        style="minimal",
        customPrompt="  sunny <script>x()</script>street javascript:go ",
        parameters={"guidance_scale": 9, "num_inference_steps": 30, "strength": 0.5, "seed": 7},
    )
    created = client.post("/api/generate", json=body, headers=bearer("alice"))
    generation = client.get(created.headers["location"], headers=bearer("alice")).json()["data"]
    assert generation["customPrompt"] == "sunny street go"
    assert generation["prompt"] == (
        "Fashion model wearing the clothing item, clean, minimalist, simple background, "
        "professional product shot, sunny street go"
    )
    assert generation["parameters"] == {
        "guidance_scale": 9,
        "num_inference_steps": 30,
        "strength": 0.5,
        "seed": 7,
    }
    assert [
        (i["role"], i["order"], i["isPrimary"], i["publicId"], i["format"], i["width"], i["height"])
        for i in generation["images"]
    ] == [
        ("product", 0, True, "shirts/blue-oxford", "jpg", 400, 600),
        ("product", 1, False, "shirts/back", "jpg", 400, 600),
        ("model", 0, True, "models/ana", "png", None, None),
    ]


def test_defaults_fill_missing_parameters(client: TestClient) -> None:
    open_account(client, "alice")
    created = client.post(
        "/api/generate", json=generation_body(parameters={"seed": 1}), headers=bearer("alice")
    )
    generation = client.get(created.headers["location"], headers=bearer("alice")).json()["data"]
    assert generation["parameters"] == {
        "guidance_scale": 7.5,
        "num_inference_steps": 50,
        "strength": 0.8,
        "seed": 1,
    }


def test_legacy_single_image_fields_are_accepted(client: TestClient) -> None:
    open_account(client, "alice")
    body = generation_body(
        productImages=None,
        productImage=image_url("legacy"),
        modelImage="https://res.cloudinary.com/demo/image/upload/m.png",
    )
    created = client.post("/api/generate", json=body, headers=bearer("alice"))
    assert created.status_code == 201, created.text
    generation = client.get(created.headers["location"], headers=bearer("alice")).json()["data"]
    assert generation["productImages"] == [image_url("legacy")]
    assert generation["modelImages"] == ["https://res.cloudinary.com/demo/image/upload/m.png"]


def test_rate_limit_headers_count_down(make_client: ClientFactory) -> None:
    client = make_client(max_requests_per_hour=3)
    open_account(client, "alice")
    remaining = [
        client.post("/api/generate", json=generation_body(), headers=bearer("alice")).headers[
            "ratelimit-remaining"
        ]
        for _ in range(3)
    ]
    assert remaining == ["2", "1", "0"]


def test_rate_limit_headers_are_absent_when_rate_limiting_is_off(
    make_client: ClientFactory,
) -> None:
    client = make_client(rate_limit_enabled=False, max_requests_per_hour=1)
    open_account(client, "alice")
    for _ in range(3):
        response = client.post("/api/generate", json=generation_body(), headers=bearer("alice"))
        assert response.status_code == 201
        assert "ratelimit-limit" not in response.headers


def test_idempotent_replay_returns_the_original_201(client: TestClient) -> None:
    open_account(client, "alice", 5)
    headers = {**bearer("alice"), "Idempotency-Key": "order-42"}
    first = client.post("/api/generate", json=generation_body(), headers=headers)
    events = stored_events(client)
    again = client.post("/api/generate", json=generation_body(), headers=headers)
    assert (first.status_code, again.status_code) == (201, 201)
    assert again.json() == first.json()
    assert again.headers["idempotent-replayed"] == "true"
    assert "idempotent-replayed" not in first.headers
    assert again.headers["location"] == first.headers["location"]
    assert stored_events(client) == events
    assert atelier(client).get_account("alice").record.reserved == 1
