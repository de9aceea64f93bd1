"""Server-Sent Events: the frames of a generation's status stream."""

from __future__ import annotations

import json
from typing import Any

KEEP_ALIVE = b": keep-alive\n\n"
EVENT_STREAM_HEADERS = {"X-Accel-Buffering": "no"}  # proxies must not hold the frames back


def status_event(version: int, data: dict[str, Any]) -> bytes:
    """`data` on one line: JSON escapes every newline inside strings."""
    line = json.dumps(data, ensure_ascii=False, separators=(",", ":"))
    return f"id: {version}\nevent: status\ndata: {line}\n\n".encode()
