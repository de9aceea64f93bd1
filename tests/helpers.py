"""Small builders the tests share: tokens, valid request bodies, Cloudinary URLs."""

from __future__ import annotations

from typing import Any

from infrastructure.tokens import mint_token
from tests.stores import TEST_SECRET


def bearer(user_id: str, role: str = "user", ttl_seconds: int = 3600) -> dict[str, str]:
    """The Authorization header of a valid token."""
    return {"Authorization": f"Bearer {mint_token(TEST_SECRET, user_id, role, ttl_seconds)}"}


def image_url(name: str = "shirts/blue-oxford", cloud: str = "demo") -> str:
    return f"https://res.cloudinary.com/{cloud}/image/upload/c_fill,w_400,h_600/v1699/{name}.jpg"


def generation_body(**changes: Any) -> dict[str, Any]:
    """A valid POST /api/generate body, with `changes` applied (None removes a field)."""
    body: dict[str, Any] = {
        "productImages": [image_url()],
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
