"""Server-Sent Events: the frames of a generation's status stream."""

from __future__ import annotations

import json
from collections.abc import AsyncGenerator, Callable
from contextlib import aclosing
from typing import Any, Generic, TypeVar

from starlette.requests import Request
from starlette.responses import Response
from starlette.types import Receive, Scope, Send

Change = TypeVar("Change")
KEEP_ALIVE = b": keep-alive\n\n"
EVENT_STREAM_HEADERS = {"X-Accel-Buffering": "no"}  # proxies must not hold the frames back


def status_event(version: int, data: dict[str, Any]) -> bytes:
    """`data` on one line: JSON escapes every newline inside strings."""
    line = json.dumps(data, ensure_ascii=False, separators=(",", ":"))
    return f"id: {version}\nevent: status\ndata: {line}\n\n".encode()


class EventStreamResponse(Response, Generic[Change]):
    """Sends a frame per change (a keep-alive per None) from the request's own task: no second
    task listening for a hang-up (Starlette's StreamingResponse) and no frame or change held
    between sends, which held streams pay for in memory. A client that left is noticed after
    the next frame (a keep-alive at the latest)."""

    def __init__(
        self,
        changes: AsyncGenerator[Change | None, None],
        frame_of: Callable[[Change], bytes],
        headers: dict[str, str],
    ) -> None:
        self.status_code = 200
        self.media_type = "text/event-stream"
        self.background = None
        self.init_headers(headers)  # no body: no Content-Length
        self.changes = changes
        self.frame_of = frame_of

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await send({"type": "http.response.start", "status": 200, "headers": self.raw_headers})
        async with aclosing(self.changes) as changes:
            async for change in changes:
                frame = KEEP_ALIVE if change is None else self.frame_of(change)
                del change
                await send({"type": "http.response.body", "body": frame, "more_body": True})
                del frame
                if await Request(scope, receive).is_disconnected():  # asks without waiting
                    return
        await send({"type": "http.response.body", "body": b"", "more_body": False})
