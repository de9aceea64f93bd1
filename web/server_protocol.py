"""The HTTP protocol `atelier serve` runs: uvicorn's, with its own 400s in the contract's shape."""

from __future__ import annotations

import json
import uuid

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from web.middleware import SECURITY_HEADERS
from web.responses import iso_timestamp


def bad_request_answer(message: str, default_headers: list[tuple[bytes, bytes]]) -> bytes:
    """A 400 for a request uvicorn could not parse: the error body and every response header."""
    request_id = uuid.uuid4().hex
    body = json.dumps(
        {
            "success": False,
            "error": message,
            "code": "VALIDATION_ERROR",
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
    lines = [b"HTTP/1.1 400 Bad Request\r\n"]
    lines += [name + b": " + value + b"\r\n" for name, value in headers]
    return b"".join([*lines, b"\r\n", body])


class AtelierHttpProtocol(HttpToolsProtocol):
    def send_400_response(self, msg: str) -> None:
        self.transport.write(bad_request_answer(msg, self.server_state.default_headers))
        self.transport.close()
