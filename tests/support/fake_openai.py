"""A local stand-in for the OpenAI Images API on 127.0.0.1, answering what a test scripts.

Tests never call the real API: they point the adapter's base URL at this server and script
its answers (success, 429, 500, a hang past the client's timeout, a malformed body).
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass
class Reply:
    status: int = 200
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)
    hang_seconds: float = 0.0  # wait this long (or until released) before answering


def images(*urls: str) -> Reply:
    """A well-formed Images API answer."""
    data = [{"url": url, "revised_prompt": "a photo"} for url in urls]
    return Reply(200, json.dumps({"created": 1, "data": data}).encode())


def error(status: int, message: str = "upstream says no", **headers: str) -> Reply:
    body = {"error": {"message": message, "type": "invalid_request_error"}}
    return Reply(status, json.dumps(body).encode(), dict(headers))


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: dict[str, Any]


class FakeOpenAI:
    """Answers each request with the next scripted reply (500 once the script runs out)."""

    def __init__(self) -> None:
        self.script: list[Reply] = []
        self.requests: list[Received] = []
        self.arrived = threading.Event()  # set when a request comes in
        self.release = threading.Event()  # ends every hang at once (teardown)
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
            reply = self.script.pop(0) if self.script else error(500, "script exhausted")
        self.arrived.set()
        return reply

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("content-length", "0"))
                raw = self.rfile.read(length)
                try:
                    body = json.loads(raw) if raw else {}
                except ValueError:
                    body = {"unparsable": raw.decode(errors="replace")}
                reply = fake._next(Received(self.path, dict(self.headers), body))
                if reply.hang_seconds:
                    fake.release.wait(reply.hang_seconds)
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
