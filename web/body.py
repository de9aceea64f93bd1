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


UNSUPPORTED_MEDIA_TYPE = ApiError(
    415, "UNSUPPORTED_MEDIA_TYPE", "Request bodies must be application/json in UTF-8."
)
UTF8_NAMES = ("utf-8", "utf8")


def require_json_media_type(content_type: str | None, raw: bytes) -> None:
    """415 for a declared type other than application/json, a charset other than UTF-8, or JSON
    in UTF-16 or UTF-32 (JSON is UTF-8, RFC 8259); no Content-Type at all is taken as JSON."""
    if content_type is not None:
        media_type, *parameters = content_type.split(";")
        if media_type.strip().lower() != "application/json":
            raise UNSUPPORTED_MEDIA_TYPE
        for parameter in parameters:
            name, _, value = parameter.partition("=")
            if name.strip().lower() == "charset" and value.strip().strip('"').lower() not in (
                UTF8_NAMES
            ):
                raise UNSUPPORTED_MEDIA_TYPE
    encoding = json.detect_encoding(raw)
    if encoding not in ("utf-8", "utf-8-sig") and _is_json_in(raw, encoding):
        raise UNSUPPORTED_MEDIA_TYPE  # bytes that are no JSON in any encoding stay a 400


def _is_json_in(raw: bytes, encoding: str) -> bool:
    try:
        json.loads(raw.decode(encoding), parse_constant=_refuse_constant)
    except (ValueError, RecursionError):  # UnicodeDecodeError is a ValueError
        return False
    return True


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
