"""The admin webhook routes: endpoints (create, list, show, delete), the URL rules, messages
and retry, through the app with its background services."""

from __future__ import annotations

import base64

import pytest
from starlette.testclient import TestClient

from tests.http.conftest import ClientFactory
from tests.support.builders import admin, bearer
from tests.support.clients import stored_events

PUBLIC_URL = "https://93.184.216.34/hooks/atelier"
TYPES = [
    "generation.created",
    "generation.processing",
    "generation.completed",
    "generation.failed",
    "generation.cancelled",
    "generation.expired",
]
REFUSED_URLS = [
    "http://93.184.216.34/hook",  # not https
    "ftp://93.184.216.34/hook",
    "https://127.0.0.1/hook",  # loopback
    "https://[::1]/hook",
    "https://localhost/hook",  # a name that resolves to loopback
    "https://10.0.0.8/hook",  # private
    "https://172.16.4.4/hook",
    "https://192.168.0.10/hook",
    "https://[fc00::1]/hook",
    "https://169.254.169.254/latest/meta-data",  # link-local
    "https://[fe80::1]/hook",
    "https://224.0.0.1/hook",  # multicast
    "https://[ff02::1]/hook",
    "https://240.0.0.1/hook",  # reserved
    "https://0.0.0.0/hook",
    "https://[::ffff:127.0.0.1]/hook",  # IPv4-mapped loopback
    "https://100.64.0.1/hook",  # shared address space
    "https://user:secret@93.184.216.34/hook",  # userinfo
    "https://user@93.184.216.34/hook",
    "https://93.184.216.34/" + "a" * 2030,  # over 2,048 characters
    "not a url",
    "https:///hook",
]


@pytest.fixture
def client(make_client: ClientFactory) -> TestClient:
    return make_client()


def create(client: TestClient, **body: object) -> dict[str, object]:
    response = client.post("/api/admin/webhooks", json={"url": PUBLIC_URL, **body}, headers=admin())
    assert response.status_code == 201, response.text
    data: dict[str, object] = response.json()["data"]
    return data


def test_create_answers_the_endpoint_and_its_secret_once(client: TestClient) -> None:
    response = client.post(
        "/api/admin/webhooks",
        json={"url": PUBLIC_URL, "events": ["generation.completed"], "description": "shop"},
        headers=admin(),
    )
    assert response.status_code == 201
    data = response.json()["data"]
    assert response.headers["location"] == f"/api/admin/webhooks/{data['id']}"
    assert set(data) == {"id", "url", "events", "description", "enabled", "createdAt", "secret"}
    assert (data["url"], data["events"], data["description"], data["enabled"]) == (
        PUBLIC_URL,
        ["generation.completed"],
        "shop",
        True,
    )
    secret = data["secret"]
    assert secret.startswith("whsec_")
    assert len(base64.b64decode(secret.removeprefix("whsec_"), validate=True)) == 32
    shown = client.get(f"/api/admin/webhooks/{data['id']}", headers=admin()).json()["data"]
    assert shown == {k: v for k, v in data.items() if k != "secret"}
    listed = client.get("/api/admin/webhooks", headers=admin()).json()
    assert listed == {"success": True, "data": [shown], "nextCursor": None}


def test_events_default_to_every_type_and_each_secret_differs(client: TestClient) -> None:
    first, second = create(client), create(client)
    assert first["events"] == TYPES
    assert first["secret"] != second["secret"]


def test_an_unknown_event_type_is_refused_on_its_index(client: TestClient) -> None:
    before = stored_events(client)
    response = client.post(
        "/api/admin/webhooks",
        json={"url": PUBLIC_URL, "events": ["generation.completed", "generation.finished"]},
        headers=admin(),
    )
    assert response.status_code == 400
    body = response.json()
    assert body["code"] == "VALIDATION_ERROR"
    assert [e["field"] for e in body["validationErrors"]] == ["events.1"]
    assert stored_events(client) == before


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"url": 5},
        {"url": PUBLIC_URL, "events": "generation.completed"},
        {"url": PUBLIC_URL, "events": []},
        {"url": PUBLIC_URL, "secret": "whsec_mine"},
        {"url": PUBLIC_URL, "description": "x" * 501},
    ],
)
def test_a_malformed_body_is_refused(client: TestClient, body: dict[str, object]) -> None:
    before = stored_events(client)
    response = client.post("/api/admin/webhooks", json=body, headers=admin())
    assert response.status_code == 400
    assert response.json()["code"] == "VALIDATION_ERROR"
    assert stored_events(client) == before


def test_a_body_that_is_not_json_is_415_and_stores_nothing(client: TestClient) -> None:
    before = stored_events(client)
    response = client.post(
        "/api/admin/webhooks",
        content=b'{"url": "https://93.184.216.34/"}',
        headers={**admin(), "Content-Type": "text/plain"},
    )
    assert (response.status_code, response.json()["code"]) == (415, "UNSUPPORTED_MEDIA_TYPE")
    assert stored_events(client) == before


@pytest.mark.parametrize("url", REFUSED_URLS)
def test_refused_urls_are_400_on_url_and_store_nothing(client: TestClient, url: str) -> None:
    before = stored_events(client)
    response = client.post("/api/admin/webhooks", json={"url": url}, headers=admin())
    assert response.status_code == 400, response.text
    body = response.json()
    assert body["code"] == "VALIDATION_ERROR"
    assert [e["field"] for e in body["validationErrors"]] == ["url"]
    assert stored_events(client) == before


def test_allow_private_admits_http_and_private_addresses(make_client: ClientFactory) -> None:
    client = make_client(webhook_allow_private=True)
    for url in ("http://127.0.0.1:9/hook", "https://10.0.0.8/hook", "http://localhost:9/x"):
        response = client.post("/api/admin/webhooks", json={"url": url}, headers=admin())
        assert response.status_code == 201, response.text
    refused = client.post("/api/admin/webhooks", json={"url": "ftp://127.0.0.1/"}, headers=admin())
    assert refused.status_code == 400


def test_delete_sends_nothing_more_and_the_endpoint_is_gone(client: TestClient) -> None:
    endpoint_id = create(client)["id"]
    assert client.delete(f"/api/admin/webhooks/{endpoint_id}", headers=admin()).status_code == 204
    for answer in (
        client.get(f"/api/admin/webhooks/{endpoint_id}", headers=admin()),
        client.delete(f"/api/admin/webhooks/{endpoint_id}", headers=admin()),
    ):
        assert answer.status_code == 404
        assert answer.json()["code"] == "NOT_FOUND"
    assert client.get("/api/admin/webhooks", headers=admin()).json()["data"] == []
    messages = client.get(f"/api/admin/webhooks/{endpoint_id}/messages", headers=admin())
    assert messages.status_code == 200  # its history stays readable


@pytest.mark.parametrize(
    "path",
    [
        "/api/admin/webhooks/00000000-0000-0000-0000-000000000001",
        "/api/admin/webhooks/not-an-id",
        "/api/admin/webhooks/00000000-0000-0000-0000-000000000001/messages",
    ],
)
def test_unknown_endpoints_are_404(client: TestClient, path: str) -> None:
    response = client.get(path, headers=admin())
    assert response.status_code == 404
    assert response.json()["code"] == "NOT_FOUND"


def test_retry_of_an_unknown_message_is_404(client: TestClient) -> None:
    endpoint_id = create(client)["id"]
    unknown = "00000000-0000-0000-0000-000000000002"
    path = f"/api/admin/webhooks/{endpoint_id}/messages/{unknown}/retry"
    response = client.post(path, headers=admin())
    assert response.status_code == 404
    assert response.json()["code"] == "NOT_FOUND"


def test_the_list_pages_newest_first(client: TestClient) -> None:
    ids = [create(client)["id"] for _ in range(3)]
    first = client.get("/api/admin/webhooks?limit=2", headers=admin()).json()
    assert [e["id"] for e in first["data"]] == ids[::-1][:2]
    cursor = first["nextCursor"]
    second = client.get(f"/api/admin/webhooks?limit=2&cursor={cursor}", headers=admin()).json()
    assert ([e["id"] for e in second["data"]], second["nextCursor"]) == ([ids[0]], None)


@pytest.mark.parametrize(
    "query",
    ["?limit=0", "?limit=101", "?cursor=nonsense", "?status=pending", "?limit=1&limit=2"],
)
def test_bad_list_parameters_are_refused(client: TestClient, query: str) -> None:
    response = client.get("/api/admin/webhooks" + query, headers=admin())
    assert response.status_code == 400
    assert response.json()["code"] == "VALIDATION_ERROR"


@pytest.mark.parametrize("query", ["?status=done", "?limit=0", "?cursor=x", "?page=2"])
def test_bad_message_list_parameters_are_refused(client: TestClient, query: str) -> None:
    endpoint_id = create(client)["id"]
    response = client.get(f"/api/admin/webhooks/{endpoint_id}/messages{query}", headers=admin())
    assert response.status_code == 400
    assert response.json()["code"] == "VALIDATION_ERROR"


def test_an_idempotency_key_replays_the_creation(client: TestClient) -> None:
    headers = {**admin(), "Idempotency-Key": "hook-1"}
    body = {"url": PUBLIC_URL, "events": ["generation.failed"]}
    first = client.post("/api/admin/webhooks", json=body, headers=headers)
    again = client.post("/api/admin/webhooks", json=body, headers=headers)
    assert (first.status_code, again.status_code) == (201, 201)
    assert again.headers["idempotent-replayed"] == "true"
    assert again.json()["data"] == first.json()["data"]
    before = stored_events(client)
    other = client.post("/api/admin/webhooks", json={"url": PUBLIC_URL}, headers=headers)
    assert other.status_code == 422
    assert other.json()["code"] == "IDEMPOTENCY_KEY_REUSED"
    assert stored_events(client) == before
    assert len(client.get("/api/admin/webhooks", headers=admin()).json()["data"]) == 1


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("POST", "/api/admin/webhooks"),
        ("GET", "/api/admin/webhooks"),
        ("GET", "/api/admin/webhooks/00000000-0000-0000-0000-000000000001"),
        ("DELETE", "/api/admin/webhooks/00000000-0000-0000-0000-000000000001"),
        ("GET", "/api/admin/webhooks/00000000-0000-0000-0000-000000000001/messages"),
    ],
)
def test_webhook_routes_are_for_admins(client: TestClient, method: str, path: str) -> None:
    assert client.request(method, path).status_code == 401
    forbidden = client.request(method, path, headers=bearer("alice"))
    assert (forbidden.status_code, forbidden.json()["code"]) == (403, "FORBIDDEN")
