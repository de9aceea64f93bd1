"""Server-Sent Events: the frames of a generation's status stream."""

from __future__ import annotations

import json
from collections.abc import AsyncGenerator
from contextlib import aclosing
from typing import Any

from starlette.requests import Request
from starlette.responses import StreamingResponse
from starlette.types import Receive, Scope, Send

KEEP_ALIVE = b": keep-alive\n\n"
EVENT_STREAM_HEADERS = {"X-Accel-Buffering": "no"}  # proxies must not hold the frames back


def status_event(version: int, data: dict[str, Any]) -> bytes:
    """`data` on one line: JSON escapes every newline inside strings."""
    line = json.dumps(data, ensure_ascii=False, separators=(",", ":"))
    return f"id: {version}\nevent: status\ndata: {line}\n\n".encode()


class EventStreamResponse(StreamingResponse):
    """Sends each frame as it comes, from the request's own task: no second task per stream
    listening for a hang-up (Starlette's StreamingResponse), which held streams pay for in
    memory. A client that left is noticed after the next frame (a keep-alive at the latest)."""

    def __init__(self, frames: AsyncGenerator[bytes, None], headers: dict[str, str]) -> None:
        super().__init__(frames, media_type="text/event-stream", headers=headers)
        self.frames = frames

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        request = Request(scope, receive)
        await send({"type": "http.response.start", "status": 200, "headers": self.raw_headers})
        async with aclosing(self.frames) as frames:
            async for frame in frames:
                await send({"type": "http.response.body", "body": frame, "more_body": True})
                if await request.is_disconnected():  # asks without waiting
                    return
        await send({"type": "http.response.body", "body": b"", "more_body": False})
