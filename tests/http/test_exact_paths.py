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
