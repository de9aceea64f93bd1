"""Reading a request body: never past MAX_REQUEST_BYTES, and only a JSON object."""

from __future__ import annotations

import json
from typing import Any

from starlette.requests import Request

from web.errors import ApiError


def too_large(limit: int) -> ApiError:
    return ApiError(
        413, "REQUEST_TOO_LARGE", f"Request body is larger than the limit of {limit} bytes."
    )


async def read_limited_body(request: Request, limit: int) -> bytes:
    """The body, or 413 as soon as it is known to exceed `limit` (declared or streamed)."""
    declared = request.headers.get("content-length")
    if declared is not None:
        if not declared.isdigit():
            raise ApiError(400, "VALIDATION_ERROR", "Content-Length is not a number.")
        if int(declared) > limit:
            raise too_large(limit)
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise too_large(limit)
        chunks.append(chunk)
    return b"".join(chunks)


def _refuse_constant(name: str) -> None:
    raise ValueError(f"{name} is not valid JSON")


def parse_json_object(raw: bytes) -> dict[str, Any]:
    try:
        value = json.loads(raw, parse_constant=_refuse_constant)
    except (ValueError, UnicodeDecodeError, RecursionError):  # nested too deep to parse
        raise ApiError(400, "VALIDATION_ERROR", "Request body is not valid JSON.") from None
    if not isinstance(value, dict):
        raise ApiError(400, "VALIDATION_ERROR", "Request body must be a JSON object.")
    return value
