"""The body reader stops at the limit: it never pulls another chunk once the limit is passed."""

from __future__ import annotations

import asyncio

import pytest
from starlette.requests import Request
from starlette.types import Message

from web.body import read_limited_body
from web.errors import ApiError


def request_with_chunks(
    chunks: list[bytes], pulled: list[int], content_length: int | None = None
) -> Request:
    headers = [] if content_length is None else [(b"content-length", str(content_length).encode())]
    scope = {"type": "http", "method": "POST", "path": "/", "headers": headers}

    async def receive() -> Message:
        index = len(pulled)
        pulled.append(index)
        return {"type": "http.request", "body": chunks[index], "more_body": index < len(chunks) - 1}

    return Request(scope, receive)


def test_streamed_body_is_abandoned_at_the_first_chunk_over_the_limit() -> None:
    pulled: list[int] = []
    request = request_with_chunks([b"a" * 400] * 10, pulled)
    with pytest.raises(ApiError) as caught:
        asyncio.run(read_limited_body(request, 1000))
    assert caught.value.status_code == 413
    assert len(pulled) == 3  # 400 + 400 + 400 > 1000: the remaining 7 chunks are never read


def test_declared_length_over_the_limit_reads_nothing() -> None:
    pulled: list[int] = []
    request = request_with_chunks([b"a" * 10], pulled, content_length=5000)
    with pytest.raises(ApiError):
        asyncio.run(read_limited_body(request, 1000))
    assert pulled == []


def test_body_within_the_limit_is_read_whole() -> None:
    pulled: list[int] = []
    request = request_with_chunks([b"a" * 500, b"b" * 500], pulled)
    assert asyncio.run(read_limited_body(request, 1000)) == b"a" * 500 + b"b" * 500
