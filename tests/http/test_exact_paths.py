"""Paths are exact: a trailing slash or an unlisted path is `404 NOT_FOUND` with the error
body, never a redirect, and no answer builds a URL from the `Host` header."""

from __future__ import annotations

import pytest
from starlette.testclient import TestClient

from tests.support.builders import admin, bearer, generation_body
from tests.support.clients import open_account


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/api/queue/"),
        ("GET", "/api/account/"),
        ("GET", "/api/generate/"),
        ("POST", "/api/generate/"),
        ("GET", "/api/generations/"),
        ("GET", "/api/admin/stats/"),
        ("GET", "/api/admin/accounts/alice/"),
        ("POST", "/api/worker/claim/"),
        ("GET", "/api/unknown"),
        ("GET", "/"),
        ("GET", "//api/queue"),
    ],
)
def test_trailing_slashes_and_unknown_paths_are_404_without_a_redirect(
    client: TestClient, method: str, path: str
) -> None:
    open_account(client, "alice", 5)
    response = client.request(
        method,
        path,
        json=generation_body() if method == "POST" else None,
        headers={**bearer("alice"), "Host": "evil.example"},
        follow_redirects=False,
    )
    assert response.status_code == 404, response.text
    assert "location" not in response.headers
    error = response.json()
    assert (error["success"], error["code"]) == (False, "NOT_FOUND")
    assert "evil.example" not in response.text


def test_no_answer_names_the_host_header(client: TestClient) -> None:
    response = client.post(
        "/api/admin/accounts",
        json={"userId": "bob", "tokens": 1},
        headers={**admin(), "Host": "evil.example"},
    )
    assert response.status_code == 201
    assert response.headers["location"] == "/api/admin/accounts/bob"


@pytest.mark.parametrize("method", ["PUT", "DELETE", "PATCH"])
def test_a_405_on_generate_allows_both_its_methods(client: TestClient, method: str) -> None:
    response = client.request(method, "/api/generate")
    assert response.status_code == 405
    assert response.json()["code"] == "METHOD_NOT_ALLOWED"
    allowed = {name.strip() for name in response.headers["allow"].split(",")}
    assert {"GET", "POST"} <= allowed


def test_generate_still_answers_both_methods(client: TestClient) -> None:
    assert client.get("/api/generate").json()["status"] == "healthy"
    assert client.head("/api/generate").status_code == 200
    assert client.post("/api/generate", json={}).status_code == 401


@pytest.mark.parametrize(
    ("query", "fields"),
    [
        ("version=1&version=1", ["version"]),
        ("limit=5", ["limit"]),
        ("versions=1", ["versions"]),
        ("version=1&x=2", ["x"]),
    ],
)
def test_the_account_route_refuses_repeated_and_unknown_query_parameters(
    client: TestClient, query: str, fields: list[str]
) -> None:
    open_account(client, "alice", 5)
    response = client.get(f"/api/admin/accounts/alice?{query}", headers=admin())
    assert response.status_code == 400
    error = response.json()
    assert error["code"] == "VALIDATION_ERROR"
    assert [item["field"] for item in error["validationErrors"]] == fields
