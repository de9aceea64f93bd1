"""A local stand-in for OpenAI's Images API on 127.0.0.1, answering what a test scripts.

It takes the image-edit request as OpenAI does (multipart/form-data: `image[]` files, `prompt`,
`model`, `size`, `quality`, `n`), keeps what it received (the image bytes included, so a test
compares them with the generation's photos), and answers base64 images, 429 with Retry-After,
5xx, a hang, or whatever else the script says. A bearer key other than its own is a 401.
"""

from __future__ import annotations

import base64
import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from tests.support.multipart import Part, fields_of, parts_of
from tests.support.png import png

API_KEY = "sk-test-local-fake"


@dataclass
class Reply:
    status: int = 200
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)
    hang_seconds: float = 0.0  # wait this long (or until released) before answering


def images(*pictures: bytes) -> Reply:
    """A well-formed answer: each picture base64-encoded, as gpt-image-1 answers."""
    data = [
        {"b64_json": base64.b64encode(picture).decode()} for picture in pictures or (png(8, 8),)
    ]
    return Reply(200, json.dumps({"created": 1, "data": data}).encode())


def error(status: int, message: str = "upstream says no", **headers: str) -> Reply:
    body = {"error": {"message": message, "type": "invalid_request_error", "code": None}}
    return Reply(
        status, json.dumps(body).encode(), {k.replace("_", "-"): v for k, v in headers.items()}
    )


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    fields: dict[str, str]
    images: list[bytes]  # the `image[]` files, in the order sent
    body: dict[str, Any] = field(default_factory=dict)  # a JSON body (images/generations)


class FakeOpenAI:
    """Answers each request with the next scripted reply; once the script runs out, with
    `otherwise` (a 500 unless a test sets it)."""

    def __init__(self) -> None:
        self.script: list[Reply] = []
        self.otherwise: Reply = error(500, "script exhausted")
        self.requests: list[Received] = []
        self.arrived = threading.Event()  # set when a request comes in
        self.release = threading.Event()  # ends every hang at once
        self._lock = threading.Lock()
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.server.daemon_threads = True

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/v1"

    def will_answer(self, *replies: Reply) -> None:
        with self._lock:
            self.script.extend(replies)

    def _next(self, received: Received) -> Reply:
        with self._lock:
            self.requests.append(received)
            reply = self.script.pop(0) if self.script else self.otherwise
        self.arrived.set()
        return reply

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            # One write per answer, sent at once, as a real server does (no Nagle stall).
            wbufsize = 65536
            disable_nagle_algorithm = True

            def do_POST(self) -> None:
                length = int(self.headers.get("content-length", "0"))
                raw = self.rfile.read(length)
                content_type = self.headers.get("content-type", "")
                received = Received(self.path, dict(self.headers), {}, [])
                if content_type.startswith("multipart/form-data"):
                    parts: list[Part] = parts_of(content_type, raw)
                    received.fields = fields_of(parts)
                    received.images = [p.data for p in parts if p.name in ("image[]", "image")]
                elif raw:
                    try:
                        received.body = json.loads(raw)
                    except ValueError:
                        received.body = {"unparsable": raw.decode(errors="replace")}
                if self.headers.get("authorization") != f"Bearer {API_KEY}":
                    fake._next(received)
                    self._send(error(401, "Incorrect API key provided: sk-t*****ake"))
                    return
                reply = fake._next(received)
                if reply.hang_seconds:
                    fake.release.wait(reply.hang_seconds)
                self._send(reply)

            def _send(self, reply: Reply) -> None:
                try:
                    self.send_response(reply.status)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(reply.body)))
                    for name, value in reply.headers.items():
                        self.send_header(name, value)
                    self.end_headers()
                    self.wfile.write(reply.body)
                except OSError:
                    pass  # the client gave up (timeout) or was killed

            def log_message(self, format: str, *args: Any) -> None:
                pass

        return Handler

    @contextmanager
    def running(self) -> Iterator[FakeOpenAI]:
        thread = threading.Thread(
            target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        thread.start()
        try:
            yield self
        finally:
            self.release.set()
            self.server.shutdown()
            self.server.server_close()
            thread.join(timeout=5)
