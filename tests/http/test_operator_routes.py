"""The operators' JSON routes: /api/admin/activity, /api/admin/generations, /api/admin/users/top
and /api/admin/users/near-limit; their answers after a workload made over HTTP, and every
refusal (credentials, role, each bad parameter) with its documented code."""

from __future__ import annotations

import base64
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from starlette.testclient import TestClient

from tests.conftest import SettingsFactory
from tests.support.builders import admin, bearer
from tests.support.clients import open_account, post_generation, stored_events
from tests.support.clock import T0, Clock
from tests.support.lifecycle import lifecycle_client

WORKER = bearer("fleet", "worker")
ROUTES = [
    "/api/admin/activity",
    "/api/admin/generations",
    "/api/admin/users/top",
    "/api/admin/users/near-limit",
]
FIGURES = ["submitted", "completed", "failed", "cancelled", "expired", "tokensCaptured"]


@pytest.fixture
def clock() -> Clock:
    return Clock(T0 + timedelta(seconds=10))


@pytest.fixture
def client(sqlite_only: SettingsFactory, clock: Clock) -> Iterator[TestClient]:
    with lifecycle_client(sqlite_only(max_requests_per_hour=5), clock) as served:
        yield served


def answer(client: TestClient, path: str, **params: Any) -> Any:
    response = client.get(path, params=params, headers=admin())
    assert response.status_code == 200, response.text
    assert response.headers["Cache-Control"] == "no-store"
    return response.json()


def run_one(client: TestClient, outcome: str) -> str:
    """Claims the oldest pending generation and completes or fails it; its id."""
    claimed = client.post("/api/worker/claim", json={"workerId": "w1"}, headers=WORKER)
    assert claimed.status_code == 200, claimed.text
    gid: str = claimed.json()["data"]["_id"]
    path = f"/api/worker/generations/{gid}/{outcome}"
    body: dict[str, Any] = {"workerId": "w1"}
    body |= (
        {"resultImages": ["https://cdn.example.com/r.png"]}
        if outcome == "complete"
        else {"reason": "upstream said no"}
    )
    assert client.post(path, json=body, headers=WORKER).status_code == 200
    return gid


def make_workload(client: TestClient, clock: Clock) -> dict[str, list[str]]:
    """alice: 4 submitted at 12:00, one completed (high: 2 tokens) and one failed at 12:02;
    bob: 1 at 12:01, cancelled at 12:03."""
    open_account(client, "alice", tokens=20)
    open_account(client, "bob", tokens=5)
    alice = [post_generation(client, "alice", quality="high")]
    alice += [post_generation(client, "alice") for _ in range(3)]
    clock.advance(minutes=1)
    bob = [post_generation(client, "bob")]
    clock.advance(minutes=1)
    assert run_one(client, "complete") == alice[0]
    assert run_one(client, "fail") == alice[1]
    clock.advance(minutes=1)
    cancelled = client.post(f"/api/generations/{bob[0]}/cancel", headers=bearer("bob"))
    assert cancelled.status_code == 200
    return {"alice": alice, "bob": bob}


# ---- activity ----------------------------------------------------------------------------


def test_activity_answers_one_bucket_per_minute_oldest_first_counting_the_workload(
    client: TestClient, clock: Clock
) -> None:
    make_workload(client, clock)  # now 12:03:10
    body = answer(client, "/api/admin/activity", minutes=5)
    assert list(body) == ["success", "data"]
    buckets = body["data"]["buckets"]
    assert [b["start"] for b in buckets] == [
        "2026-11-30T11:59:00.000Z",
        "2026-11-30T12:00:00.000Z",
        "2026-11-30T12:01:00.000Z",
        "2026-11-30T12:02:00.000Z",
        "2026-11-30T12:03:00.000Z",
    ]
    assert all(list(b) == ["start", *FIGURES] for b in buckets)
    figures = [[b[f] for f in FIGURES] for b in buckets]
    assert figures == [
        [0, 0, 0, 0, 0, 0],
        [4, 0, 0, 0, 0, 0],
        [1, 0, 0, 0, 0, 0],
        [0, 1, 1, 0, 0, 2],
        [0, 0, 0, 1, 0, 0],
    ]


def test_activity_defaults_to_the_last_hour_and_takes_one_to_a_day_of_minutes(
    client: TestClient,
) -> None:
    assert len(answer(client, "/api/admin/activity")["data"]["buckets"]) == 60
    assert len(answer(client, "/api/admin/activity", minutes="")["data"]["buckets"]) == 60
    assert len(answer(client, "/api/admin/activity", minutes=1)["data"]["buckets"]) == 1
    day = answer(client, "/api/admin/activity", minutes=1440)["data"]["buckets"]
    assert len(day) == 1440
    assert day[-1]["start"] == "2026-11-30T12:00:00.000Z"


# ---- every user's generations ------------------------------------------------------------


def test_admin_generations_lists_every_users_newest_first_as_each_user_sees_them(
    client: TestClient, clock: Clock
) -> None:
    made = make_workload(client, clock)
    listed = answer(client, "/api/admin/generations")
    assert listed["nextCursor"] is None
    ids = [item["_id"] for item in listed["data"]]
    assert ids == [made["bob"][0], *reversed(made["alice"])]
    own = client.get("/api/generations", headers=bearer("alice")).json()["data"]
    assert [item for item in listed["data"] if item["userId"] == "alice"] == own


def test_admin_generations_pages_and_filters_by_status_and_user(
    client: TestClient, clock: Clock
) -> None:
    made = make_workload(client, clock)
    first = answer(client, "/api/admin/generations", limit=2)
    second = answer(client, "/api/admin/generations", limit=2, cursor=first["nextCursor"])
    third = answer(client, "/api/admin/generations", limit=2, cursor=second["nextCursor"])
    paged = [item["_id"] for page in (first, second, third) for item in page["data"]]
    assert paged == [made["bob"][0], *reversed(made["alice"])]
    assert third["nextCursor"] is None
    failed = answer(client, "/api/admin/generations", status="failed")["data"]
    assert [(g["_id"], g["userId"], g["error"]) for g in failed] == [
        (made["alice"][1], "alice", "upstream said no")
    ]
    bobs = answer(client, "/api/admin/generations", userId="bob")["data"]
    assert [(g["_id"], g["status"]) for g in bobs] == [(made["bob"][0], "cancelled")]
    alice_pending = answer(client, "/api/admin/generations", userId="alice", status="pending")
    assert [g["_id"] for g in alice_pending["data"]] == list(reversed(made["alice"][2:]))
    assert answer(client, "/api/admin/generations", userId="nobody")["data"] == []


# ---- top users and users near the limit --------------------------------------------------


def test_top_users_counts_generations_and_captured_tokens_over_the_hours_asked(
    client: TestClient, clock: Clock
) -> None:
    make_workload(client, clock)
    top = answer(client, "/api/admin/users/top")["data"]
    assert top == [
        {"userId": "alice", "generations": 4, "tokensCaptured": 2},
        {"userId": "bob", "generations": 1, "tokensCaptured": 0},
    ]
    assert answer(client, "/api/admin/users/top", limit=1)["data"] == top[:1]
    clock.advance(minutes=57, seconds=30)  # 13:00:40: alice's (12:00:10) have left the hour
    assert answer(client, "/api/admin/users/top", hours=1)["data"] == top[1:]
    assert answer(client, "/api/admin/users/top", hours=168)["data"] == top


def test_users_near_the_hourly_limit_from_the_rate_limit_view(
    client: TestClient, clock: Clock
) -> None:
    make_workload(client, clock)  # limit 5: near from 4; alice has 4, bob 1
    near = answer(client, "/api/admin/users/near-limit")["data"]
    assert near == [
        {
            "userId": "alice",
            "used": 4,
            "limit": 5,
            "remaining": 1,
            "resetAt": "2026-11-30T13:00:10.000Z",
        }
    ]
    clock.advance(hours=1)
    assert answer(client, "/api/admin/users/near-limit")["data"] == []


def test_nobody_is_near_a_limit_when_rate_limiting_is_off(
    sqlite_only: SettingsFactory,
) -> None:
    with lifecycle_client(sqlite_only(rate_limit_enabled=False)) as served:
        open_account(served, "alice", tokens=20)
        for _ in range(12):
            post_generation(served, "alice")
        assert answer(served, "/api/admin/users/near-limit")["data"] == []


# ---- refusals ----------------------------------------------------------------------------


@pytest.mark.parametrize("path", ROUTES)
@pytest.mark.parametrize(
    ("headers", "status", "code"),
    [
        ({}, 401, "AUTHENTICATION_REQUIRED"),
        ({"Authorization": "Bearer not-a-token"}, 401, "AUTHENTICATION_REQUIRED"),
        (bearer("root", "admin", ttl_seconds=-60), 401, "AUTHENTICATION_REQUIRED"),
        (bearer("alice"), 403, "FORBIDDEN"),
        (WORKER, 403, "FORBIDDEN"),
    ],
)
def test_the_operator_routes_need_an_admin_token(
    client: TestClient, path: str, headers: dict[str, str], status: int, code: str
) -> None:
    open_account(client, "alice")
    response = client.get(path, headers=headers)
    assert response.status_code == status
    body = response.json()
    assert (body["success"], body["code"]) == (False, code)
    assert body["requestId"] == response.headers["X-Request-ID"]


def cursor(text: str) -> str:
    return base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")


@pytest.mark.parametrize(
    ("path", "params", "field"),
    [
        ("/api/admin/activity", {"minutes": "0"}, "minutes"),
        ("/api/admin/activity", {"minutes": "1441"}, "minutes"),
        ("/api/admin/activity", {"minutes": "-5"}, "minutes"),
        ("/api/admin/activity", {"minutes": "1.5"}, "minutes"),
        ("/api/admin/activity", {"minutes": "an hour"}, "minutes"),
        ("/api/admin/activity", {"minutes": ["5", "6"]}, "minutes"),
        ("/api/admin/activity", {"hours": "1"}, "hours"),
        ("/api/admin/activity", {"minutes": "5\u0000"}, "minutes"),
        ("/api/admin/generations", {"status": "done"}, "status"),
        ("/api/admin/generations", {"limit": "0"}, "limit"),
        ("/api/admin/generations", {"limit": "101"}, "limit"),
        ("/api/admin/generations", {"limit": "ten"}, "limit"),
        ("/api/admin/generations", {"cursor": "not-a-cursor"}, "cursor"),
        ("/api/admin/generations", {"cursor": cursor("g1:12")}, "cursor"),  # the user list's
        ("/api/admin/generations", {"cursor": cursor("a1:-4")}, "cursor"),
        ("/api/admin/generations", {"userId": "no spaces"}, "userId"),
        ("/api/admin/generations", {"userId": "x" * 129}, "userId"),
        ("/api/admin/generations", {"userId": ["a", "b"]}, "userId"),
        ("/api/admin/generations", {"user": "alice"}, "user"),
        ("/api/admin/users/top", {"hours": "0"}, "hours"),
        ("/api/admin/users/top", {"hours": "169"}, "hours"),
        ("/api/admin/users/top", {"hours": "day"}, "hours"),
        ("/api/admin/users/top", {"limit": "0"}, "limit"),
        ("/api/admin/users/top", {"limit": "101"}, "limit"),
        ("/api/admin/users/top", {"minutes": "5"}, "minutes"),
        ("/api/admin/users/near-limit", {"limit": "0"}, "limit"),
        ("/api/admin/users/near-limit", {"limit": "101"}, "limit"),
        ("/api/admin/users/near-limit", {"hours": "1"}, "hours"),
    ],
)
def test_bad_parameters_are_a_validation_error_naming_them(
    client: TestClient, path: str, params: dict[str, Any], field: str
) -> None:
    open_account(client, "alice")
    before = stored_events(client)
    response = client.get(path, params=params, headers=admin())
    assert response.status_code == 400, response.text
    body = response.json()
    assert (body["success"], body["code"]) == (False, "VALIDATION_ERROR")
    assert [problem["field"] for problem in body["validationErrors"]] == [field]
    assert stored_events(client) == before


@pytest.mark.parametrize(
    ("path", "params"),
    [
        ("/api/admin/users/top", {"hours": "1", "limit": "1"}),
        ("/api/admin/users/top", {"hours": "168", "limit": "100"}),
        ("/api/admin/users/near-limit", {"limit": "100"}),
        ("/api/admin/generations", {"limit": "100", "status": "", "userId": "", "cursor": ""}),
    ],
)
def test_the_parameter_bounds_are_accepted(
    client: TestClient, path: str, params: dict[str, Any]
) -> None:
    answer(client, path, **params)


@pytest.mark.parametrize("path", [*ROUTES, "/dashboard"])
def test_the_routes_are_exact_paths(client: TestClient, path: str) -> None:
    response = client.get(path + "/", headers=admin())
    assert response.status_code == 404
    assert response.json()["code"] == "NOT_FOUND"
