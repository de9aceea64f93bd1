"""POST /api/generate: every refusal of the contract, each with its status, code and fields,
and each leaving the store exactly as it was."""

from __future__ import annotations

import re
from typing import Any

import pytest
from starlette.testclient import TestClient

from domain import catalogue
from domain.catalogue import ImageModel
from tests.http.conftest import ClientFactory
from tests.support.builders import bearer, generation_body, image_url
from tests.support.clients import atelier, open_account, stored_events

TIMESTAMP = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")


def refused(
    client: TestClient,
    status: int,
    code: str,
    body: Any = None,
    headers: dict[str, str] | None = None,
    content: bytes | None = None,
    user: str = "alice",
) -> dict[str, Any]:
    """POST, assert the documented refusal and that nothing was stored; return the body."""
    before = stored_events(client)
    reserved = atelier(client).get_account(user).record.reserved if before else 0
    all_headers = {**bearer(user), **(headers or {})}
    if content is not None:
        response = client.post("/api/generate", content=content, headers=all_headers)
    else:
        response = client.post("/api/generate", json=body, headers=all_headers)
    assert response.status_code == status, response.text
    error = response.json()
    assert error["success"] is False
    assert error["code"] == code
    assert TIMESTAMP.match(error["timestamp"])
    assert error["requestId"] == response.headers["x-request-id"]
    assert response.headers["x-frame-options"] == "DENY"
    assert stored_events(client) == before
    if before:
        assert atelier(client).get_account(user).record.reserved == reserved
    return error


@pytest.fixture
def alice(client: TestClient) -> TestClient:
    open_account(client, "alice", 5)
    return client


def fields(error: dict[str, Any]) -> list[str]:
    return [item["field"] for item in error["validationErrors"]]


# ---- schema -------------------------------------------------------------------------------


def test_empty_product_images_has_the_plans_exact_message(alice: TestClient) -> None:
    error = refused(alice, 400, "VALIDATION_ERROR", generation_body(productImages=[]))
    assert error["validationErrors"] == [
        {"field": "productImages", "message": "At least one product image is required"}
    ]


@pytest.mark.parametrize(
    ("changes", "expected_fields"),
    [
        ({"productImages": None}, ["productImages"]),
        ({"style": None, "quality": None}, ["style", "quality"]),
        ({"productImages": [image_url(f"p{i}") for i in range(6)]}, ["productImages"]),
        ({"modelImages": [image_url(f"m{i}") for i in range(4)]}, ["modelImages"]),
        ({"productImages": [image_url("a"), image_url("b"), 3]}, ["productImages.2"]),
        ({"productImages": image_url()}, ["productImages"]),
        ({"style": "baroque"}, ["style"]),
        ({"aspectRatio": "4:5"}, ["aspectRatio"]),
        ({"quality": "max"}, ["quality"]),
        ({"model": None}, ["model"]),
        ({"model": 7}, ["model"]),
        ({"customPrompt": "x" * 501}, ["customPrompt"]),
        ({"customPrompt": 5}, ["customPrompt"]),
        ({"parameters": {"guidance_scale": 0.5}}, ["parameters.guidance_scale"]),
        ({"parameters": {"guidance_scale": 20.5}}, ["parameters.guidance_scale"]),
        ({"parameters": {"guidance_scale": "7"}}, ["parameters.guidance_scale"]),
        ({"parameters": {"num_inference_steps": 19}}, ["parameters.num_inference_steps"]),
        ({"parameters": {"num_inference_steps": 50.5}}, ["parameters.num_inference_steps"]),
        ({"parameters": {"strength": 0.05}}, ["parameters.strength"]),
        ({"parameters": {"strength": 1.01}}, ["parameters.strength"]),
        ({"parameters": {"seed": -1}}, ["parameters.seed"]),
        ({"parameters": {"seed": 2**32}}, ["parameters.seed"]),
        ({"parameters": {"seed": True}}, ["parameters.seed"]),
        ({"parameters": {"cfg": 3}}, ["parameters.cfg"]),
        ({"parameters": []}, ["parameters"]),
        (
            {"status": "completed", "userId": "bob", "tokenCost": 0},
            ["status", "userId", "tokenCost"],
        ),
        ({"productImage": image_url("x")}, ["productImage"]),
        ({"productImages": None, "productImage": ["a"]}, ["productImage"]),
    ],
)
def test_schema_violations_name_each_field_as_sent(
    alice: TestClient, changes: dict[str, Any], expected_fields: list[str]
) -> None:
    error = refused(alice, 400, "VALIDATION_ERROR", generation_body(**changes))
    assert sorted(fields(error)) == sorted(expected_fields)
    assert all(item["message"] for item in error["validationErrors"])


def test_seed_bounds_are_inclusive(alice: TestClient) -> None:
    for seed in (0, 2**32 - 1):
        response = alice.post(
            "/api/generate",
            json=generation_body(parameters={"seed": seed}),
            headers=bearer("alice"),
        )
        assert response.status_code == 201, response.text


def test_a_prompt_of_exactly_500_characters_is_accepted(alice: TestClient) -> None:
    response = alice.post(
        "/api/generate", json=generation_body(customPrompt="y" * 500), headers=bearer("alice")
    )
    assert response.status_code == 201


@pytest.mark.parametrize(
    "content",
    [b"{not json", b"", b"[1, 2]", b'"text"', b"null", b"\xff\xfe{}", b'{"a": NaN}'],
)
def test_bodies_that_are_not_a_json_object_are_refused(alice: TestClient, content: bytes) -> None:
    refused(
        alice,
        400,
        "VALIDATION_ERROR",
        content=content,
        headers={"Content-Type": "application/json"},
    )


# ---- size ---------------------------------------------------------------------------------


def test_body_over_the_limit_with_content_length_is_413(make_client: ClientFactory) -> None:
    client = make_client(max_request_bytes=2048)
    open_account(client, "alice")
    body = generation_body(customPrompt="z" * 400, productImages=[image_url("q" * 2000)])
    error = refused(client, 413, "REQUEST_TOO_LARGE", body)
    assert "2048" in error["error"]


def test_body_over_the_limit_without_content_length_is_413(make_client: ClientFactory) -> None:
    client = make_client(max_request_bytes=1000)
    open_account(client, "alice")

    def chunks() -> Any:
        for _ in range(10):
            yield b" " * 200

    before = stored_events(client)
    response = client.post("/api/generate", content=chunks(), headers=bearer("alice"))
    assert response.status_code == 413
    assert response.json()["code"] == "REQUEST_TOO_LARGE"
    assert stored_events(client) == before


def test_a_body_at_the_limit_is_read(make_client: ClientFactory) -> None:
    client = make_client(max_request_bytes=1000)
    open_account(client, "alice")
    raw = str(generation_body()).replace("'", '"')
    padded = raw[:-1] + " " * (1000 - len(raw)) + "}"
    assert len(padded.encode()) == 1000
    response = client.post(
        "/api/generate",
        content=padded.encode(),
        headers={**bearer("alice"), "Content-Type": "application/json"},
    )
    assert response.status_code == 201, response.text


# ---- prompt, model, images ------------------------------------------------------------------


@pytest.mark.parametrize("prompt", ["explicit", "Something VIOLENT here", "so harmful!"])
def test_banned_words_are_refused_on_custom_prompt(alice: TestClient, prompt: str) -> None:
    error = refused(alice, 400, "VALIDATION_ERROR", generation_body(customPrompt=prompt))
    assert fields(error) == ["customPrompt"]


def test_banned_words_come_from_settings(make_client: ClientFactory) -> None:
    client = make_client(banned_words="neon")
    open_account(client, "alice")
    refused(client, 400, "VALIDATION_ERROR", generation_body(customPrompt="neon lights"))
    ok = client.post(
        "/api/generate", json=generation_body(customPrompt="explicit"), headers=bearer("alice")
    )
    assert ok.status_code == 201


def test_unknown_model_is_a_model_error(alice: TestClient) -> None:
    error = refused(alice, 400, "MODEL_ERROR", generation_body(model="midjourney-7"))
    assert "midjourney-7" in error["error"]


def test_disabled_model_and_unsupported_ratio_are_model_errors(
    alice: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(
        catalogue.CATALOGUE, "portrait-only", ImageModel("portrait-only", True, ("9:16",))
    )
    monkeypatch.setitem(catalogue.CATALOGUE, "retired", ImageModel("retired", False, ("1:1",)))
    refused(alice, 400, "MODEL_ERROR", generation_body(model="portrait-only"))
    refused(alice, 400, "MODEL_ERROR", generation_body(model="retired"))
    ok = alice.post(
        "/api/generate",
        json=generation_body(model="portrait-only", aspectRatio="9:16"),
        headers=bearer("alice"),
    )
    assert ok.status_code == 201


@pytest.mark.parametrize(
    "url",
    [
        "http://res.cloudinary.com/demo/image/upload/a.jpg",
        "https://images.example.com/demo/image/upload/a.jpg",
        "https://res.cloudinary.com.example.com/demo/image/upload/a.jpg",
        "https://user@res.cloudinary.com/demo/image/upload/a.jpg",
        "https://res.cloudinary.com:8443/demo/image/upload/a.jpg",
        "https://res.cloudinary.com/demo/raw/upload/a.jpg",
        "https://res.cloudinary.com/demo/image/upload/v12",
        "https://res.cloudinary.com/demo/image/upload/" + "a" * 2050 + ".jpg",
        "not a url",
    ],
)
def test_image_url_rules_are_image_validation_errors(alice: TestClient, url: str) -> None:
    error = refused(alice, 400, "IMAGE_VALIDATION_ERROR", generation_body(productImages=[url]))
    assert fields(error) == ["productImages.0"]


def test_every_offending_image_is_named(alice: TestClient) -> None:
    body = generation_body(
        productImages=[image_url("ok"), "http://res.cloudinary.com/demo/image/upload/x.jpg"],
        modelImages=[image_url("ok"), "https://evil.example/x.jpg"],
    )
    error = refused(alice, 400, "IMAGE_VALIDATION_ERROR", body)
    assert fields(error) == ["productImages.1", "modelImages.0", "modelImages.1"]


def test_legacy_field_errors_use_the_legacy_name(alice: TestClient) -> None:
    body = generation_body(productImages=None, productImage="https://evil.example/x.jpg")
    error = refused(alice, 400, "IMAGE_VALIDATION_ERROR", body)
    assert fields(error) == ["productImage"]


def test_cloud_names_restrict_image_clouds(make_client: ClientFactory) -> None:
    client = make_client(cloudinary_cloud_names="shop,studio")
    open_account(client, "alice")
    refused(client, 400, "IMAGE_VALIDATION_ERROR", generation_body(productImages=[image_url()]))
    ok = client.post(
        "/api/generate",
        json=generation_body(productImages=[image_url(cloud="studio")]),
        headers=bearer("alice"),
    )
    assert ok.status_code == 201


# ---- rate limit, tokens, queue, switch ------------------------------------------------------


def test_over_the_hourly_limit_is_429_with_retry_after(make_client: ClientFactory) -> None:
    client = make_client(max_requests_per_hour=2)
    open_account(client, "alice")
    for _ in range(2):
        client.post("/api/generate", json=generation_body(), headers=bearer("alice"))
    before = stored_events(client)
    response = client.post("/api/generate", json=generation_body(), headers=bearer("alice"))
    assert response.status_code == 429
    assert response.json()["code"] == "RATE_LIMIT_EXCEEDED"
    assert 3590 <= int(response.headers["retry-after"]) <= 3600
    assert stored_events(client) == before


def test_insufficient_tokens_has_the_plans_message_and_details(alice: TestClient) -> None:
    for _ in range(2):
        alice.post("/api/generate", json=generation_body(quality="ultra"), headers=bearer("alice"))
    error = refused(alice, 400, "INSUFFICIENT_TOKENS", generation_body(quality="high"))
    assert error["error"] == "Insufficient tokens. Required: 2, Available: 1"
    assert error["details"] == "You need 1 more tokens to proceed."


def test_full_queue_is_503_with_retry_after(make_client: ClientFactory) -> None:
    client = make_client(queue_max_size=1)
    open_account(client, "alice")
    open_account(client, "bob")
    assert (
        client.post("/api/generate", json=generation_body(), headers=bearer("bob")).status_code
        == 201
    )
    before = stored_events(client)
    response = client.post("/api/generate", json=generation_body(), headers=bearer("alice"))
    assert response.status_code == 503
    assert response.json()["code"] == "QUEUE_FULL"
    assert int(response.headers["retry-after"]) > 0
    assert stored_events(client) == before
    assert atelier(client).get_account("alice").record.reserved == 0


def test_generation_switched_off_is_503(make_client: ClientFactory) -> None:
    client = make_client(generation_enabled=False)
    open_account(client, "alice")
    refused(client, 503, "SERVICE_UNAVAILABLE", generation_body())


# ---- idempotency keys -----------------------------------------------------------------------


def test_same_key_with_a_different_body_is_422(alice: TestClient) -> None:
    headers = {"Idempotency-Key": "k-1"}
    alice.post("/api/generate", json=generation_body(), headers={**bearer("alice"), **headers})
    refused(alice, 422, "IDEMPOTENCY_KEY_REUSED", generation_body(quality="ultra"), headers)


@pytest.mark.parametrize("key", [b"k" * 256, b"tab\there", "caf\u00e9".encode()])
def test_malformed_idempotency_key_is_a_validation_error(alice: TestClient, key: bytes) -> None:
    error = refused(alice, 400, "VALIDATION_ERROR", generation_body(), {"Idempotency-Key": key})  # type: ignore[dict-item]
    assert fields(error) == ["Idempotency-Key"]


def test_a_255_character_key_is_accepted(alice: TestClient) -> None:
    response = alice.post(
        "/api/generate",
        json=generation_body(),
        headers={**bearer("alice"), "Idempotency-Key": "k" * 255},
    )
    assert response.status_code == 201


# ---- order ----------------------------------------------------------------------------------


def test_checks_run_in_the_contracts_order(make_client: ClientFactory) -> None:
    client = make_client(max_requests_per_hour=1, queue_max_size=1)
    open_account(client, "alice", 1)
    client.post("/api/generate", json=generation_body(), headers=bearer("alice"))
    everything_wrong = generation_body(
        customPrompt="explicit", model="nope", productImages=["http://x"], quality="ultra"
    )
    steps = [
        (everything_wrong, "VALIDATION_ERROR"),
        ({**everything_wrong, "customPrompt": "fine"}, "MODEL_ERROR"),
        (
            {**everything_wrong, "customPrompt": "fine", "model": "gpt-4.1-dalle-3"},
            "IMAGE_VALIDATION_ERROR",
        ),
        (generation_body(quality="ultra"), "RATE_LIMIT_EXCEEDED"),
    ]
    for body, code in steps:
        response = client.post("/api/generate", json=body, headers=bearer("alice"))
        assert response.json()["code"] == code
