"""What every response carries: request ids, security headers, the error body, the health
check, and a 500 that leaks nothing."""

from __future__ import annotations

import pytest
from eventsourcing.persistence import OperationalError
from starlette.testclient import TestClient

from tests.support.builders import bearer, generation_body
from tests.support.clients import atelier, open_account

SECURITY = {
    "x-content-type-options": "nosniff",
    "x-frame-options": "DENY",
    "x-xss-protection": "1; mode=block",
    "referrer-policy": "strict-origin-when-cross-origin",
}


def test_health_is_healthy_when_the_store_answers(client: TestClient) -> None:
    response = client.get("/api/generate")
    assert response.status_code == 200
    body = response.json()
    assert set(body) == {"status", "timestamp"} and body["status"] == "healthy"
    assert response.headers["cache-control"] == "no-store"


def test_health_is_unhealthy_when_the_store_does_not_answer(
    client: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken() -> int:
        raise ConnectionError("database at 10.0.0.5 refused")

    monkeypatch.setattr(atelier(client), "ping", broken)
    response = client.get("/api/generate")
    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "unhealthy" and body["error"] and body["timestamp"]
    assert "10.0.0.5" not in response.text


@pytest.mark.parametrize(
    ("method", "path", "status", "code"),
    [
        ("GET", "/", 404, "NOT_FOUND"),
        ("GET", "/api/nothing-here", 404, "NOT_FOUND"),
        ("DELETE", "/api/generate", 405, "METHOD_NOT_ALLOWED"),
    ],
)
def test_unknown_routes_get_the_error_body(
    client: TestClient, method: str, path: str, status: int, code: str
) -> None:
    response = client.request(method, path)
    assert response.status_code == status
    assert response.json()["code"] == code
    for name, value in SECURITY.items():
        assert response.headers[name] == value


def test_a_sane_request_id_is_echoed(client: TestClient) -> None:
    response = client.post("/api/generate", json={}, headers={"X-Request-ID": "trace-123.a:b"})
    assert response.headers["x-request-id"] == "trace-123.a:b"
    assert response.json()["requestId"] == "trace-123.a:b"


@pytest.mark.parametrize("sent", ["has space", "x" * 129, "<script>", ""])
def test_an_insane_request_id_is_replaced(client: TestClient, sent: str) -> None:
    response = client.get("/api/account", headers={"X-Request-ID": sent})
    assert response.headers["x-request-id"] != sent
    assert response.json()["requestId"] == response.headers["x-request-id"]


def test_request_ids_are_generated_when_absent(client: TestClient) -> None:
    first = client.get("/api/generate").headers["x-request-id"]
    second = client.get("/api/generate").headers["x-request-id"]
    assert first and second and first != second


def test_unexpected_failure_is_500_without_internals(
    client: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    open_account(client, "alice")

    def explode(*args: object) -> None:
        raise RuntimeError("password=hunter2 at /srv/atelier/secret.py")

    monkeypatch.setattr(atelier(client), "prepare_submission", explode)
    response = client.post("/api/generate", json=generation_body(), headers=bearer("alice"))
    assert response.status_code == 500
    body = response.json()
    assert (body["success"], body["code"]) == (False, "SERVER_ERROR")
    assert "hunter2" not in response.text and "secret.py" not in response.text
    assert body["requestId"] == response.headers["x-request-id"]
    for name, value in SECURITY.items():
        assert response.headers[name] == value


def test_json_nested_too_deep_is_a_validation_error(client: TestClient) -> None:
    open_account(client, "alice")
    response = client.post(
        "/api/generate",
        content=b"[" * 100_000,
        headers={**bearer("alice"), "Content-Type": "application/json"},
    )
    assert (response.status_code, response.json()["code"]) == (400, "VALIDATION_ERROR")


def test_an_unreachable_event_store_is_503_not_500(
    client: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    open_account(client, "alice")

    def locked(*args: object) -> None:
        raise OperationalError("database is locked at /srv/atelier/var/atelier.sqlite3")

    monkeypatch.setattr(atelier(client), "get_account", locked)
    response = client.get("/api/account", headers=bearer("alice"))
    assert (response.status_code, response.json()["code"]) == (503, "SERVICE_UNAVAILABLE")
    assert int(response.headers["retry-after"]) > 0
    assert "/srv" not in response.text
