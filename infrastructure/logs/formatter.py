"""How a log line looks: structlog's renderers, for the one formatter every stdlib logger's
records go through (ours, uvicorn's, the libraries') and for the request line's own logger."""

from __future__ import annotations

import sys
from typing import Any

import orjson
import structlog
from structlog.typing import EventDict, Processor, WrappedLogger

from application.telemetry import current_request_id

# The fields a record may carry besides its message: the request line's, nothing else, so a
# library's extras (headers, say) never reach the log by accident.
RECORD_FIELDS = ("method", "route", "status", "durationMs", "requestId", "userId", "code")
TIMESTAMP = structlog.processors.TimeStamper(fmt="iso", utc=True, key="timestamp")


def add_request_id(logger: WrappedLogger, method_name: str, event: EventDict) -> EventDict:
    """The id of the request being answered, on every line logged while answering it."""
    if event.get("requestId") is None:
        request_id = current_request_id.get()
        if request_id is not None:
            event["requestId"] = request_id
    return event


def json_text(event: Any, **options: Any) -> str:
    """orjson for the renderer: a few microseconds less than `json.dumps` per line."""
    return orjson.dumps(event, default=options.get("default")).decode()


def renderers(log_format: str) -> list[Processor]:
    """`json`: one object per line; `text`: aligned for a terminal, coloured only on one."""
    if log_format == "json":
        return [structlog.processors.format_exc_info, structlog.processors.JSONRenderer(json_text)]
    return [
        structlog.dev.ConsoleRenderer(
            colors=sys.stderr.isatty(),
            exception_formatter=structlog.dev.plain_traceback,  # never a frame's locals
            pad_event_to=10,
        )
    ]


def log_formatter(log_format: str) -> structlog.stdlib.ProcessorFormatter:
    """The formatter of the stderr handler every stdlib logger writes through."""
    pre_chain: list[Processor] = [
        TIMESTAMP,
        structlog.stdlib.add_log_level,
        structlog.stdlib.add_logger_name,
        structlog.stdlib.ExtraAdder(allow=RECORD_FIELDS),
        add_request_id,
    ]
    processors: list[Any] = [
        structlog.stdlib.ProcessorFormatter.remove_processors_meta,
        *renderers(log_format),
    ]
    return structlog.stdlib.ProcessorFormatter(foreign_pre_chain=pre_chain, processors=processors)
