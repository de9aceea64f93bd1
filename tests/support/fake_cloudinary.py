"""A local stand-in for Cloudinary on 127.0.0.1: delivery (GET `/<cloud>/image/upload/...`, the
images a test hosts and every upload) and the Upload API (POST `/v1_1/<cloud>/image/upload`),
which checks each upload's signature as Cloudinary does: SHA-1 over the sorted `key=value`
parameters (`&` in a value as `%26`) joined by `&`, followed by the API secret; the file,
`api_key`, `resource_type` and the signature itself are not signed.
"""

from __future__ import annotations

import hashlib
import json
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from tests.support.multipart import fields_of, parts_of
from tests.support.png import png_size

CLOUD = "atelier-test"
API_KEY = "123456789012345"
API_SECRET = "fake-cloudinary-secret"
UNSIGNED = frozenset({"file", "api_key", "resource_type", "signature"})
MAX_AGE_SECONDS = 3600


def signature_of(fields: dict[str, str], secret: str) -> str:
    signed = sorted(
        f"{key}={value}".replace("&", "%26")
        for key, value in fields.items()
        if key not in UNSIGNED and value
    )
    return hashlib.sha1(("&".join(signed) + secret).encode()).hexdigest()  # noqa: S324


@dataclass
class Upload:
    public_id: str
    version: int
    format: str
    data: bytes
    fields: dict[str, str]


class FakeCloudinary:
    def __init__(self) -> None:
        self.hosted: dict[str, bytes] = {}  # delivery path (after the host) -> bytes
        self.uploads: list[Upload] = []  # every accepted upload, in order
        self.stored: dict[str, Upload] = {}  # public id -> its latest upload
        self.refused: list[str] = []  # why each refused upload was refused
        self.delivered: list[str] = []  # paths asked for
        self.upload_failures: list[int] = []  # statuses the next uploads answer with
        self.redirects: dict[str, str] = {}  # delivery path -> Location answered with a 302
        self.heads_open = threading.Event()  # cleared: HEAD answers wait (a slow host)
        self.heads_open.set()
        self._lock = threading.Lock()
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.server.daemon_threads = True

    @property
    def origin(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    @property
    def cloudinary_url(self) -> str:
        """CLOUDINARY_URL for the service: uploads come here (`upload_prefix`)."""
        return f"cloudinary://{API_KEY}:{API_SECRET}@{CLOUD}?upload_prefix={self.origin}"

    def host(self, path: str, data: bytes, cloud: str = CLOUD) -> str:
        """Serve `data` at `/<cloud>/image/upload/<path>`; the https URL a client submits."""
        with self._lock:
            self.hosted[f"/{cloud}/image/upload/{path}"] = data
        return f"https://res.cloudinary.com/{cloud}/image/upload/{path}"

    def delivery_path(self, url: str) -> str:
        return url.removeprefix("https://res.cloudinary.com")

    def _upload(self, content_type: str, raw: bytes, cloud: str) -> tuple[int, dict[str, Any]]:
        parts = parts_of(content_type, raw)
        fields = fields_of(parts)
        files = [part.data for part in parts if part.name == "file"]
        problem = None
        if cloud != CLOUD:
            problem = f"Unknown cloud {cloud}"
        elif fields.get("api_key") != API_KEY:
            problem = "Unknown API key"
        elif fields.get("signature") != signature_of(fields, API_SECRET):
            problem = "Invalid Signature"
        elif abs(time.time() - int(fields.get("timestamp") or 0)) > MAX_AGE_SECONDS:
            problem = "Stale request"
        elif len(files) != 1 or png_size(files[0]) is None:
            problem = "Invalid image file"
        if problem is not None:
            with self._lock:
                self.refused.append(problem)
            status = 400 if problem == "Invalid image file" else 401
            return status, {"error": {"message": problem}}
        with self._lock:
            if self.upload_failures:
                status = self.upload_failures.pop(0)
                return status, {"error": {"message": "Cloudinary is having a bad day"}}
        folder = fields.get("folder", "")
        public_id = f"{folder}/{fields['public_id']}" if folder else fields["public_id"]
        data = files[0]
        width, height = png_size(data) or (0, 0)
        with self._lock:
            previous = self.stored.get(public_id)
            version = previous.version + 1 if previous else 1_700_000_000
            upload = Upload(public_id, version, "png", data, fields)
            self.uploads.append(upload)
            self.stored[public_id] = upload
            self.hosted[f"/{CLOUD}/image/upload/v{version}/{public_id}.png"] = data
        path = f"{CLOUD}/image/upload/v{version}/{public_id}.png"
        return 200, {
            "public_id": public_id,
            "version": version,
            "format": "png",
            "width": width,
            "height": height,
            "bytes": len(data),
            "resource_type": "image",
            "secure_url": f"https://res.cloudinary.com/{path}",
            "url": f"http://res.cloudinary.com/{path}",
            "overwritten": previous is not None,
        }

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            # One write per answer, sent at once, as a real server does (no Nagle stall).
            wbufsize = 65536
            disable_nagle_algorithm = True

            def do_GET(self) -> None:
                with fake._lock:
                    fake.delivered.append(self.path)
                    data = fake.hosted.get(self.path)
                    location = fake.redirects.get(self.path)
                if location is not None:
                    self.send_response(302)
                    self.send_header("Location", location)
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                elif data is None:
                    self._send(404, b"not found", "text/plain")
                else:
                    self._send(200, data, "image/png")

            def do_HEAD(self) -> None:
                fake.heads_open.wait(timeout=30)
                with fake._lock:
                    fake.delivered.append(self.path)
                    found = self.path in fake.hosted
                self.send_response(200 if found else 404)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def do_POST(self) -> None:
                length = int(self.headers.get("content-length", "0"))
                raw = self.rfile.read(length)
                pieces = self.path.strip("/").split("/")
                if len(pieces) != 4 or pieces[0] != "v1_1" or pieces[2:] != ["image", "upload"]:
                    self._send(404, b'{"error": {"message": "no such route"}}')
                    return
                status, answer = fake._upload(self.headers.get("content-type", ""), raw, pieces[1])
                self._send(status, json.dumps(answer).encode())

            def _send(self, status: int, body: bytes, kind: str = "application/json") -> None:
                try:
                    self.send_response(status)
                    self.send_header("Content-Type", kind)
                    self.send_header("Content-Length", str(len(body)))
                    self.end_headers()
                    self.wfile.write(body)
                except OSError:
                    pass

            def log_message(self, format: str, *args: Any) -> None:
                pass

        return Handler

    @contextmanager
    def running(self) -> Iterator[FakeCloudinary]:
        thread = threading.Thread(
            target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        thread.start()
        try:
            yield self
        finally:
            self.server.shutdown()
            self.server.server_close()
            thread.join(timeout=5)
