"""The HTTP protocol `atelier serve` runs: uvicorn's, with its own answers in the contract's shape,
limits on request heads, a request timeout, and one quiet log line for a client that leaves."""

from __future__ import annotations

import asyncio
import http
import json
import logging
import uuid
from dataclasses import dataclass
from typing import Any

import httptools
from uvicorn.config import Config
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol
from uvicorn.server import ServerState

from web.middleware import SECURITY_HEADERS
from web.responses import iso_timestamp

logger = logging.getLogger("atelier.web")
TIMED_OUT = "atelier.timed_out"  # scope key: the request timeout closed this request


@dataclass(frozen=True)
class PortLimits:
    max_header_bytes: int = 16 * 1024
    max_headers: int = 100
    request_timeout_seconds: float = 30.0
    max_head_bytes: int = 64 * 1024  # request line and header lines as received, before parsing


def error_answer(
    status: int, code: str, message: str, default_headers: list[tuple[bytes, bytes]]
) -> bytes:
    """An answer written before the app runs: the error body and every response header."""
    request_id = uuid.uuid4().hex
    body = json.dumps(
        {
            "success": False,
            "error": message,
            "code": code,
            "timestamp": iso_timestamp(),
            "requestId": request_id,
        },
        separators=(",", ":"),
    ).encode()
    headers = [
        *default_headers,
        *((name.encode(), value.encode()) for name, value in SECURITY_HEADERS.items()),
        (b"x-request-id", request_id.encode()),
        (b"cache-control", b"no-store"),
        (b"content-type", b"application/json; charset=utf-8"),
        (b"content-length", str(len(body)).encode()),
        (b"connection", b"close"),
    ]
    phrase = http.HTTPStatus(status).phrase
    lines = [f"HTTP/1.1 {status} {phrase}\r\n".encode()]
    lines += [name + b": " + value + b"\r\n" for name, value in headers]
    return b"".join([*lines, b"\r\n", body])


def bad_request_answer(message: str, default_headers: list[tuple[bytes, bytes]]) -> bytes:
    """A 400 for a request uvicorn could not parse."""
    return error_answer(400, "VALIDATION_ERROR", message, default_headers)


class HeadTooLarge(Exception):
    """Raised from a parser callback to stop parsing a request head past the limits."""


class ClientWentAway(BaseException):
    """The client hung up before its request was received: nothing to answer, nothing failed."""


class AnswerHangUpsQuietly:
    """The app, with a client's hang-up mid-request ending its task with one log line."""

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        received_all = False
        answered = False

        async def receive_or_leave() -> Any:
            nonlocal received_all
            message = await receive()
            if message["type"] == "http.request" and not message.get("more_body", False):
                received_all = True
            elif message["type"] == "http.disconnect" and not (received_all or answered):
                raise ClientWentAway
            return message

        async def send_noting(message: Any) -> None:
            nonlocal answered
            answered = True
            await send(message)

        try:
            await self.app(scope, receive_or_leave, send_noting)
        except ClientWentAway:
            if scope.get(TIMED_OUT):
                return  # the timeout said so already
            logger.info(
                "client left before its request was received: %s %s",
                scope.get("method"),
                scope.get("path"),
                extra={"requestId": scope.get("state", {}).get("request_id")},
            )


class AtelierHttpProtocol(HttpToolsProtocol):
    def __init__(
        self,
        config: Config,
        server_state: ServerState,
        app_state: dict[str, Any],
        _loop: asyncio.AbstractEventLoop | None = None,
        limits: PortLimits = PortLimits(),
    ) -> None:
        super().__init__(config, server_state, app_state, _loop)
        self.app = AnswerHangUpsQuietly(self.app)
        self.limits = limits
        self.in_head = True  # a request head is awaited or arriving
        self.in_body = False
        self.head_bytes = 0
        self.header_bytes = 0
        self.header_count = 0
        self.began_in_chunk = False
        self.head_refused = False
        self.bytes_of_request = False
        self.request_deadline: float | None = None  # loop time the request must progress by
        self.request_timer: asyncio.TimerHandle | None = None  # re-armed lazily when it fires

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._set_deadline()

    def connection_lost(self, exc: Exception | None) -> None:
        self._stop_request_timer()
        super().connection_lost(exc)

    def data_received(self, data: bytes) -> None:
        if self.in_head and self.head_bytes > self.limits.max_head_bytes:
            self._refuse_head()
            return
        if self.in_body:
            self._set_deadline()
        self.bytes_of_request = True
        self.began_in_chunk = False
        self._unset_keepalive_if_required()
        try:
            self.parser.feed_data(data)
        except httptools.HttpParserError:
            if self.head_refused:
                self._refuse_head()
                return
            msg = "Invalid HTTP request received."
            self.logger.warning(msg)
            self.send_400_response(msg)
            return
        except httptools.HttpParserUpgrade:
            if self._should_upgrade():
                self.handle_websocket_upgrade()
            else:
                self._unsupported_upgrade_warning()
            return
        if self.in_head and not self.began_in_chunk:
            self.head_bytes += len(data)  # a chunk wholly of the head still arriving

    def send_400_response(self, msg: str) -> None:
        self._stop_request_timer()
        self.transport.write(bad_request_answer(msg, self.server_state.default_headers))
        self.transport.close()

    def on_message_begin(self) -> None:
        super().on_message_begin()
        self.in_head = True
        self.in_body = False
        self.began_in_chunk = True
        self.head_bytes = 0
        self.header_bytes = 0
        self.header_count = 0
        if self.request_deadline is None:
            self._set_deadline()  # the whole head must arrive within the timeout

    def on_header(self, name: bytes, value: bytes) -> None:
        self.header_count += 1
        self.header_bytes += len(name) + len(value) + 4  # "name: value\r\n"
        if (
            self.header_count > self.limits.max_headers
            or self.header_bytes > self.limits.max_header_bytes
        ):
            self.head_refused = True
            raise HeadTooLarge
        super().on_header(name, value)

    def on_headers_complete(self) -> None:
        self.in_head = False
        self.in_body = True
        self._set_deadline()  # from here, the body must not stall for the timeout
        super().on_headers_complete()

    def on_message_complete(self) -> None:
        self.in_body = False
        self.bytes_of_request = False
        self.request_deadline = None
        super().on_message_complete()

    def _refuse_head(self) -> None:
        self._stop_request_timer()
        logger.info("request head over the limits refused with 431")
        message = (
            f"Request headers are over {self.limits.max_header_bytes} bytes"
            f" or {self.limits.max_headers} fields."
        )
        self.transport.write(
            error_answer(431, "REQUEST_TOO_LARGE", message, self.server_state.default_headers)
        )
        self.transport.close()

    def _set_deadline(self) -> None:
        """A float per call: the one timer is armed only when none is running."""
        self.request_deadline = self.loop.time() + self.limits.request_timeout_seconds
        if self.request_timer is None:
            self.request_timer = self.loop.call_later(
                self.limits.request_timeout_seconds, self._check_deadline
            )

    def _stop_request_timer(self) -> None:
        self.request_deadline = None
        if self.request_timer is not None:
            self.request_timer.cancel()
            self.request_timer = None

    def _check_deadline(self) -> None:
        self.request_timer = None
        if self.request_deadline is None or self.transport.is_closing():
            return
        remaining = self.request_deadline - self.loop.time()
        if remaining > 0:
            self.request_timer = self.loop.call_later(remaining, self._check_deadline)
        elif self.flow.read_paused:  # the body stopped because the app has not read it yet
            self._set_deadline()
        else:
            self._request_timed_out()

    def _request_timed_out(self) -> None:
        self.request_deadline = None
        cycle = self.cycle
        idle = cycle is None or cycle.response_complete
        if self.in_head and self.bytes_of_request and idle:
            answerable = True
        elif self.in_body and cycle is not None and not cycle.response_started:
            answerable = True
            cycle.disconnected = True  # the app's task ends; nothing more is written
            cycle.scope[TIMED_OUT] = True  # type: ignore[literal-required]
            cycle.message_event.set()
        else:
            answerable = False
        if self.in_head and not self.bytes_of_request:
            self.transport.close()  # a connection that never started a request
            return
        logger.info("request not received within %gs: closed", self.limits.request_timeout_seconds)
        if answerable:
            message = (
                f"The request did not arrive within {self.limits.request_timeout_seconds:g} s."
            )
            self.transport.write(
                error_answer(408, "REQUEST_TIMEOUT", message, self.server_state.default_headers)
            )
        self.transport.close()
