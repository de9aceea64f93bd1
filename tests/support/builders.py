"""Builders and constants the tests share: tokens, image URLs, requests and request bodies."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from typing import Any
from uuid import UUID

from application.ports import GenerationJob
from domain.requests import GenerationRequest
from infrastructure.tokens import mint_token
from tests.support.clock import T0

TEST_SECRET = "test-secret-that-is-long-enough-for-hs256-signing"
ADMIN_ID = "root"


def bearer(user_id: str, role: str = "user", ttl_seconds: int = 3600) -> dict[str, str]:
    """The Authorization header of a valid token."""
    return {"Authorization": f"Bearer {mint_token(TEST_SECRET, user_id, role, ttl_seconds)}"}


def admin() -> dict[str, str]:
    return bearer(ADMIN_ID, "admin")


def image_url(name: str = "shirts/blue-oxford", cloud: str = "demo") -> str:
    return f"https://res.cloudinary.com/{cloud}/image/upload/c_fill,w_400,h_600/v1699/{name}.jpg"


PRODUCT_URL = image_url()


def generation_request(**changes: Any) -> GenerationRequest:
    """A valid request, with `changes` applied."""
    base = GenerationRequest(
        product_images=(PRODUCT_URL,),
        style="realistic",
        aspect_ratio="1:1",
        quality="standard",
        model="gpt-4.1-dalle-3",
    )
    return replace(base, **changes)


def generation_body(**changes: Any) -> dict[str, Any]:
    """A valid POST /api/generate body, with `changes` applied (None removes a field)."""
    body: dict[str, Any] = {
        "productImages": [PRODUCT_URL],
        "style": "realistic",
        "aspectRatio": "1:1",
        "quality": "standard",
        "model": "gpt-4.1-dalle-3",
    }
    for key, value in changes.items():
        if value is None:
            body.pop(key, None)
        else:
            body[key] = value
    return body


def generation_job(**changes: Any) -> GenerationJob:
    """What a worker hands its generator, with `changes` applied."""
    values: dict[str, Any] = {
        "generation_id": UUID(int=7),
        "user_id": "alice",
        "prompt": "Professional fashion photograph, realistic style",
        "product_images": (PRODUCT_URL,),
        "model_images": (),
        "style": "realistic",
        "aspect_ratio": "1:1",
        "quality": "standard",
        "model": "gpt-4.1-dalle-3",
        "parameters": {},
        "lease_expires_at": T0 + timedelta(minutes=10),
    }
    values.update(changes)
    return GenerationJob(**values)
