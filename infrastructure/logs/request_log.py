"""The line each answered request logs: `{"event": "request", "method", "route", "status",
"durationMs", "requestId", "userId"}`, and the error `code` of a refusal or failure.

It is written by structlog's own logger, as the stdlib loggers' lines look, without the stdlib
record and its copy that each of those costs (docs/benchmarks.md, "Metrics and logs")."""

from __future__ import annotations

import logging
import sys

import structlog
from structlog.typing import EventDict, WrappedLogger

from application.telemetry import AnsweredRequest
from infrastructure.logs.config import REQUEST_LOGGER
from infrastructure.logs.formatter import TIMESTAMP, renderers


def add_logger_name(logger: WrappedLogger, method_name: str, event: EventDict) -> EventDict:
    event["logger"] = REQUEST_LOGGER
    return event


class RequestLog:
    def __init__(self, log_format: str) -> None:
        # Its level (LOG_LEVEL, or off with --no-access-log) says whether lines are wanted.
        self.switch = logging.getLogger(REQUEST_LOGGER)
        self.logger = structlog.wrap_logger(
            structlog.WriteLogger(sys.stderr),
            processors=[
                TIMESTAMP,
                structlog.processors.add_log_level,
                add_logger_name,
                *renderers(log_format),
            ],
        )

    def write(self, request: AnsweredRequest) -> None:
        if not self.switch.isEnabledFor(logging.INFO):
            return
        if request.code is None:
            self.logger.info(
                "request",
                method=request.method,
                route=request.route,
                status=request.status,
                durationMs=round(request.seconds * 1000, 2),
                requestId=request.request_id,
                userId=request.user_id,
            )
        else:
            self.logger.info(
                "request",
                method=request.method,
                route=request.route,
                status=request.status,
                durationMs=round(request.seconds * 1000, 2),
                requestId=request.request_id,
                userId=request.user_id,
                code=request.code,
            )
