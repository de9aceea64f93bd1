"""Every response: a request id, the security headers, no caching of API answers, a 500 that
leaks nothing, and a report of the answer to the telemetry (metrics and the request's log line)."""

from __future__ import annotations

import logging
import re
import time
import uuid

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from application.telemetry import (
    NO_TELEMETRY,
    UNMATCHED_ROUTE,
    AnsweredRequest,
    Telemetry,
    current_request_id,
)
from web.responses import error_response

logger = logging.getLogger("atelier.web")

SANE_REQUEST_ID = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")
SECURITY_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "X-XSS-Protection": "1; mode=block",
    "Referrer-Policy": "strict-origin-when-cross-origin",
}


def request_id_from(scope: Scope) -> str:
    for name, value in scope.get("headers", []):
        if name == b"x-request-id":
            candidate: str = value.decode("latin-1")
            if SANE_REQUEST_ID.match(candidate):
                return candidate
            break
    return uuid.uuid4().hex


def route_template(scope: Scope) -> str:
    """The matched route's path template (`/api/generations/{generation_id}`), never the path."""
    path: str | None = getattr(scope.get("route"), "path", None)
    return path or UNMATCHED_ROUTE


class ApiMiddleware:
    def __init__(self, app: ASGIApp, telemetry: Telemetry = NO_TELEMETRY) -> None:
        self.app = app
        self.telemetry = telemetry

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        began = time.perf_counter()
        request_id = request_id_from(scope)
        state = scope.setdefault("state", {})
        state["request_id"] = request_id
        in_request = current_request_id.set(request_id)
        is_api = scope["path"].startswith("/api")
        status = 0  # until the answer starts

        async def send_with_headers(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                headers = MutableHeaders(scope=message)
                for name, value in SECURITY_HEADERS.items():
                    headers[name] = value
                headers["X-Request-ID"] = request_id
                if is_api:
                    headers["Cache-Control"] = "no-store"
            await send(message)

        try:
            await self.app(scope, receive, send_with_headers)
        except Exception:
            logger.exception("unexpected error answering %s %s", scope["method"], scope["path"])
            if status:
                raise
            state["error_code"] = "SERVER_ERROR"
            response = error_response(500, "SERVER_ERROR", "Internal server error", request_id)
            await response(scope, receive, send_with_headers)
        finally:
            current_request_id.reset(in_request)
            if status:  # a client that left before any answer is the protocol's to log
                self.telemetry.request_answered(
                    AnsweredRequest(
                        scope["method"],
                        route_template(scope),
                        status,
                        time.perf_counter() - began,
                        request_id,
                        state.get("user_id"),
                        state.get("error_code"),
                    )
                )
