"""A webhook receiver on 127.0.0.1, as a customer's backend would run one: it records what
arrives and answers as told per path (2xx, 500 for the first K calls, a hang, a redirect)."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


@dataclass(frozen=True)
class Received:
    path: str
    headers: dict[str, str]
    body: bytes


@dataclass
class Behaviour:
    """`fail_first` calls answer 500; `hang` holds every call until released; `redirect`
    answers 307 to itself; `set_cookie` sets one with every answer."""

    fail_first: int = 0
    hang: bool = False
    redirect: bool = False
    set_cookie: bool = False
    calls: int = 0


@dataclass
class Receiver:
    base_url: str
    received: list[Received] = field(default_factory=list)
    behaviours: dict[str, Behaviour] = field(default_factory=dict)
    released: threading.Event = field(default_factory=threading.Event)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def url(self, path: str, **behaviour: object) -> str:
        self.behaviours[path] = Behaviour(**behaviour)  # type: ignore[arg-type]
        return self.base_url + path

    def at(self, path: str) -> list[Received]:
        with self.lock:
            return [r for r in self.received if r.path == path]

    def wait_for(self, path: str, count: int, timeout: float = 60) -> list[Received]:
        """The first `count` requests to `path`, once they have arrived."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            found = self.at(path)
            if len(found) >= count:
                return found
            time.sleep(0.05)
        raise AssertionError(f"{path} got {len(self.at(path))} of {count} requests")


def _handler(receiver: Receiver) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_POST(self) -> None:
            length = int(self.headers.get("content-length", "0"))
            body = self.rfile.read(length)
            headers = {name.lower(): value for name, value in self.headers.items()}
            with receiver.lock:
                receiver.received.append(Received(self.path, headers, body))
                behaviour = receiver.behaviours.setdefault(self.path, Behaviour())
                behaviour.calls += 1
                calls = behaviour.calls
            if behaviour.hang:
                receiver.released.wait(120)
            cookie = {"set-cookie": f"session={calls}; Path=/"} if behaviour.set_cookie else {}
            if behaviour.redirect:
                self._answer(307, {"location": receiver.base_url + "/elsewhere"})
            elif calls <= behaviour.fail_first:
                self._answer(500, cookie)
            else:
                self._answer(200, cookie)

        def _answer(self, status: int, headers: dict[str, str]) -> None:
            try:
                self.send_response(status)
                for name, value in headers.items():
                    self.send_header(name, value)
                self.send_header("content-length", "0")
                self.end_headers()
            except OSError:
                pass  # the sender gave up (its timeout)

        def log_message(self, format: str, *args: object) -> None:
            pass

    return Handler


@contextmanager
def webhook_receiver() -> Iterator[Receiver]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(Receiver("")))
    receiver = Receiver(f"http://127.0.0.1:{server.server_address[1]}")
    server.RequestHandlerClass = _handler(receiver)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield receiver
    finally:
        receiver.released.set()
        server.shutdown()
        server.server_close()
