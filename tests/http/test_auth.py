"""Who may call what: bearer tokens, accounts, disabled accounts and roles."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import jwt
import pytest
from starlette.testclient import TestClient

from tests.support.builders import TEST_SECRET, bearer, generation_body
from tests.support.clients import open_account, stored_events

USER_ROUTES = [
    ("POST", "/api/generate"),
    ("GET", "/api/account"),
    ("GET", "/api/generations/00000000-0000-0000-0000-000000000000"),
]
ADMIN_ROUTES = [
    ("POST", "/api/admin/accounts"),
    ("GET", "/api/admin/accounts/alice"),
    ("POST", "/api/admin/accounts/alice/grants"),
    ("POST", "/api/admin/accounts/alice/disable"),
    ("POST", "/api/admin/accounts/alice/enable"),
]


def call(client: TestClient, method: str, path: str, headers: dict[str, str]) -> dict[str, object]:
    response = client.request(method, path, json=generation_body(), headers=headers)
    body = response.json()
    body["status"] = response.status_code
    return body


def forged(**claims: object) -> dict[str, str]:
    token = jwt.encode(
        {"sub": "alice", "exp": datetime.now(UTC) + timedelta(hours=1), **claims},
        TEST_SECRET,
        algorithm="HS256",
    )
    return {"Authorization": f"Bearer {token}"}


@pytest.mark.parametrize(("method", "path"), USER_ROUTES + ADMIN_ROUTES)
@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"Authorization": "Basic YWxpY2U6cHc="},
        {"Authorization": "Bearer"},
        {"Authorization": "Bearer not-a-jwt"},
        forged(exp=datetime.now(UTC) - timedelta(seconds=5)),
        {
            "Authorization": "Bearer "
            + jwt.encode(
                {"sub": "alice", "exp": datetime.now(UTC) + timedelta(hours=1)},
                "another-secret-of-sufficient-length-here",
                algorithm="HS256",
            )
        },
    ],
    ids=["none", "basic", "empty-bearer", "garbage", "expired", "wrong-secret"],
)
def test_missing_or_bad_credentials_are_401(
    client: TestClient, method: str, path: str, headers: dict[str, str]
) -> None:
    open_account(client, "alice")
    before = stored_events(client)
    body = call(client, method, path, headers)
    assert (body["status"], body["code"]) == (401, "AUTHENTICATION_REQUIRED")
    assert stored_events(client) == before


def test_unsigned_token_is_refused(client: TestClient) -> None:
    open_account(client, "alice")
    token = jwt.encode(
        {"sub": "alice", "exp": datetime.now(UTC) + timedelta(hours=1)}, key=None, algorithm="none"
    )  # type: ignore[arg-type]
    body = call(client, "POST", "/api/generate", {"Authorization": f"Bearer {token}"})
    assert (body["status"], body["code"]) == (401, "AUTHENTICATION_REQUIRED")


def test_token_without_account_is_401_user_not_found(client: TestClient) -> None:
    body = call(client, "POST", "/api/generate", bearer("nobody"))
    assert (body["status"], body["code"], body["error"]) == (
        401,
        "AUTHENTICATION_REQUIRED",
        "User not found",
    )


@pytest.mark.parametrize(("method", "path"), USER_ROUTES)
def test_disabled_account_is_403_on_every_user_route(
    client: TestClient, method: str, path: str
) -> None:
    open_account(client, "alice")
    client.post(
        "/api/admin/accounts/alice/disable",
        json={"reason": "fraud"},
        headers=bearer("root", "admin"),
    )
    body = call(client, method, path, bearer("alice"))
    assert (body["status"], body["code"]) == (403, "ACCOUNT_DISABLED")


@pytest.mark.parametrize(("method", "path"), ADMIN_ROUTES)
@pytest.mark.parametrize("role", ["user", "worker"])
def test_non_admin_tokens_are_forbidden_on_admin_routes(
    client: TestClient, method: str, path: str, role: str
) -> None:
    open_account(client, "alice")
    before = stored_events(client)
    body = call(client, method, path, bearer("alice", role))
    assert (body["status"], body["code"]) == (403, "FORBIDDEN")
    assert stored_events(client) == before


def test_admin_tokens_need_no_account(client: TestClient) -> None:
    response = client.get("/api/admin/accounts/missing", headers=bearer("ops", "admin"))
    assert response.status_code == 404
