"""The line each answered request logs: `{"event": "request", "method", "route", "status",
"durationMs", "requestId", "userId"}`, and the error `code` of a refusal or failure."""

from __future__ import annotations

import logging

from application.telemetry import AnsweredRequest
from infrastructure.logs.config import REQUEST_LOGGER

logger = logging.getLogger(REQUEST_LOGGER)


def log_request(request: AnsweredRequest) -> None:
    if not logger.isEnabledFor(logging.INFO):
        return
    fields: dict[str, object] = {
        "method": request.method,
        "route": request.route,
        "status": request.status,
        "durationMs": round(request.seconds * 1000, 2),
        "requestId": request.request_id,
        "userId": request.user_id,
    }
    if request.code is not None:
        fields["code"] = request.code
    logger.info("request", extra=fields)
