"""VERIFY_IMAGE_URLS=true: every image is checked with HEAD against a local image server.

The checker's httpx transport routes res.cloudinary.com to a server on 127.0.0.1 (keeping the
original URL in the request line's Host) and records every request it is asked to make, so a
test can prove what was, and what was never, requested.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx
import pytest
from starlette.testclient import TestClient

from infrastructure.bootstrap import build_application
from infrastructure.image_checker import HttpImageChecker
from tests.conftest import SettingsFactory
from tests.support.builders import bearer, generation_body
from web.asgi import app_from_settings

CLOUD = "https://res.cloudinary.com/demo/image/upload/v1"
CHECK_TIMEOUT_SECONDS = 1.0


@dataclass
class ImageServer:
    """A tiny image host: the path's file name says how it answers a HEAD."""

    heads: list[str] = field(default_factory=list)
    release: threading.Event = field(default_factory=threading.Event)
    together: threading.Barrier = field(default_factory=lambda: threading.Barrier(2, timeout=5))

    def handler(self) -> type[BaseHTTPRequestHandler]:
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_HEAD(self) -> None:
                server.heads.append(f"{self.headers['Host']}{self.path}")
                name = self.path.rsplit("/", 1)[-1]
                if name == "dropped.jpg":
                    self.close_connection = True
                    self.connection.close()
                    return
                if name == "slow.jpg":
                    server.release.wait(CHECK_TIMEOUT_SECONDS * 5)
                if name.startswith("pair-"):  # answers only if its twin is asked at once
                    try:
                        server.together.wait()
                    except threading.BrokenBarrierError:
                        self._answer(500)
                        return
                statuses = {"gone.jpg": 404, "moved.jpg": 301, "offsite.jpg": 302}
                self._answer(statuses.get(name, 200), name)

            def _answer(self, status: int, name: str = "") -> None:
                try:
                    self.send_response(status)
                    if name == "moved.jpg":
                        self.send_header("Location", "/demo/image/upload/v1/ok.jpg")
                    if name == "offsite.jpg":
                        self.send_header("Location", "https://evil.example/steal.jpg")
                    self.send_header("Content-Type", "image/jpeg")
                    self.end_headers()
                except OSError:
                    pass

            def log_message(self, format: str, *args: Any) -> None:
                pass

        return Handler


class RoutingTransport(httpx.AsyncBaseTransport):
    """Sends every request to the local server, keeping the Host it was meant for."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.requested: list[str] = []

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        self.requested.append(str(request.url))
        local = request.url.copy_with(scheme="http", host="127.0.0.1", port=self.port)
        headers = dict(request.headers)
        headers["host"] = request.url.host
        async with httpx.AsyncHTTPTransport() as inner:
            response = await inner.handle_async_request(
                httpx.Request(request.method, local, headers=headers, extensions=request.extensions)
            )
            await response.aread()
        return httpx.Response(response.status_code, headers=response.headers, request=request)


@pytest.fixture
def image_server() -> Iterator[tuple[ImageServer, int]]:
    images = ImageServer()
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), images.handler())
    httpd.daemon_threads = True
    thread = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.05})
    thread.start()
    yield images, httpd.server_address[1]
    images.release.set()
    images.together.abort()
    httpd.shutdown()
    httpd.server_close()
    thread.join(timeout=5)


@pytest.fixture
def routing(image_server: tuple[ImageServer, int]) -> RoutingTransport:
    return RoutingTransport(image_server[1])


@pytest.fixture
def heads(image_server: tuple[ImageServer, int]) -> list[str]:
    return image_server[0].heads


@pytest.fixture
def client(make_settings: SettingsFactory, routing: RoutingTransport) -> Iterator[TestClient]:
    settings = make_settings(verify_image_urls=True)
    atelier = build_application(settings)
    assert isinstance(atelier.image_checker, HttpImageChecker)  # the setting switched it on
    atelier.image_checker = HttpImageChecker(CHECK_TIMEOUT_SECONDS, transport=routing)
    with TestClient(app_from_settings(settings, atelier), raise_server_exceptions=False) as served:
        opened = served.post(
            "/api/admin/accounts",
            json={"userId": "alice", "tokens": 10},
            headers=bearer("root", "admin"),
        )
        assert opened.status_code == 201
        yield served


def submit(client: TestClient, products: list[str], models: list[str] | None = None) -> Any:
    body = generation_body(productImages=products, modelImages=models)
    return client.post("/api/generate", json=body, headers=bearer("alice"))


def refused_fields(response: Any) -> list[tuple[str, str]]:
    assert response.status_code == 400, response.text
    assert response.json()["code"] == "IMAGE_VALIDATION_ERROR"
    return [(p["field"], p["message"]) for p in response.json()["validationErrors"]]


def reserved(client: TestClient) -> int:
    value: int = client.get("/api/account", headers=bearer("alice")).json()["data"]["reserved"]
    return value


def test_reachable_images_are_accepted_after_one_head_each(
    client: TestClient, heads: list[str]
) -> None:
    response = submit(client, [f"{CLOUD}/ok.jpg", f"{CLOUD}/ok2.jpg"], [f"{CLOUD}/model.png"])
    assert response.status_code == 201, response.text
    assert sorted(heads) == sorted(
        f"res.cloudinary.com/demo/image/upload/v1/{name}"
        for name in ("ok.jpg", "ok2.jpg", "model.png")
    )


def test_images_are_checked_concurrently(client: TestClient) -> None:
    """Each of the pair answers only while the other is being asked: sequential checks fail."""
    response = submit(client, [f"{CLOUD}/pair-a.jpg", f"{CLOUD}/pair-b.jpg"])
    assert response.status_code == 201, response.text


def test_a_missing_image_is_refused_naming_its_field(client: TestClient) -> None:
    response = submit(client, [f"{CLOUD}/ok.jpg"], [f"{CLOUD}/gone.jpg"])
    assert refused_fields(response) == [("modelImages.0", "Image is not accessible: HTTP 404")]
    assert reserved(client) == 0


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("dropped.jpg", "Image could not be reached"),
        ("slow.jpg", "Image could not be reached: timed out"),
    ],
)
def test_an_unreachable_image_is_refused_naming_its_field(
    client: TestClient, name: str, message: str
) -> None:
    response = submit(client, [f"{CLOUD}/ok.jpg", f"{CLOUD}/{name}"])
    assert refused_fields(response) == [("productImages.1", message)]
    assert reserved(client) == 0


def test_a_redirect_on_the_same_host_is_followed(client: TestClient, heads: list[str]) -> None:
    response = submit(client, [f"{CLOUD}/moved.jpg"])
    assert response.status_code == 201, response.text
    assert heads == [
        "res.cloudinary.com/demo/image/upload/v1/moved.jpg",
        "res.cloudinary.com/demo/image/upload/v1/ok.jpg",
    ]


def test_a_redirect_to_another_host_is_refused_and_never_followed(
    client: TestClient, routing: RoutingTransport
) -> None:
    response = submit(client, [f"{CLOUD}/offsite.jpg"])
    assert refused_fields(response) == [("productImages.0", "Image redirects to another host")]
    assert routing.requested == [f"{CLOUD}/offsite.jpg"]


@pytest.mark.parametrize(
    "bad",
    [
        "https://evil.example/demo/image/upload/v1/x.jpg",
        "http://res.cloudinary.com/demo/image/upload/v1/x.jpg",
        "https://res.cloudinary.com:8443/demo/image/upload/v1/x.jpg",
        "https://user@res.cloudinary.com/demo/image/upload/v1/x.jpg",
        "https://169.254.169.254/latest/meta-data/",
    ],
)
def test_a_url_that_fails_the_format_rules_is_never_requested(
    client: TestClient, routing: RoutingTransport, heads: list[str], bad: str
) -> None:
    response = submit(client, [f"{CLOUD}/ok.jpg", bad])
    fields = refused_fields(response)
    assert [f for f, _ in fields] == ["productImages.1"]
    assert routing.requested == []  # not even the valid one: format comes first
    assert heads == []
