"""Worker routes: claim, heartbeat, complete, fail; on SQLite and PostgreSQL, through the served
app."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any
from uuid import uuid4

import pytest
from starlette.testclient import TestClient

from tests.conftest import SettingsFactory
from tests.support.builders import bearer
from tests.support.clients import (
    open_account as open_account_over_http,
)
from tests.support.clients import (
    post_generation as submit_over_http,
)
from tests.support.clock import Clock
from tests.support.lifecycle import lifecycle_client

WORKER = bearer("fleet", "worker")
RESULT = "https://cdn.example.com/results/1.png"
LEASE = 600
GENERATION_FIELDS = {
    "_id", "userId", "status", "productImages", "modelImages", "images", "style", "aspectRatio",
    "quality", "model", "customPrompt", "parameters", "prompt", "tokenCost", "createdAt",
    "updatedAt", "startedAt", "completedAt", "resultImages", "error", "queuePosition",
}  # fmt: skip


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def client(make_settings: SettingsFactory, clock: Clock) -> Iterator[TestClient]:
    with lifecycle_client(make_settings(lease_seconds=LEASE), clock) as served:
        open_account_over_http(served, "alice", 10)
        yield served


def claim(client: TestClient, worker_id: str = "worker-1", headers: Any = WORKER) -> Any:
    return client.post("/api/worker/claim", json={"workerId": worker_id}, headers=headers)


def complete(
    client: TestClient, gid: str, urls: Any, headers: Any = WORKER, worker_id: str = "worker-1"
) -> Any:
    body = {"workerId": worker_id, "resultImages": urls}
    return client.post(f"/api/worker/generations/{gid}/complete", json=body, headers=headers)


def fail(
    client: TestClient,
    gid: str,
    reason: Any = "model refused",
    headers: Any = WORKER,
    worker_id: str = "worker-1",
) -> Any:
    body = {"workerId": worker_id, "reason": reason}
    return client.post(f"/api/worker/generations/{gid}/fail", json=body, headers=headers)


def heartbeat(client: TestClient, gid: str, worker_id: str = "worker-1") -> Any:
    body = {"workerId": worker_id}
    return client.post(f"/api/worker/generations/{gid}/heartbeat", json=body, headers=WORKER)


def event_count(client: TestClient, gid: str) -> int:
    events = client.get(f"/api/generations/{gid}/events", headers=bearer("alice")).json()
    return len(events["data"])


def account(client: TestClient, user_id: str = "alice") -> dict[str, Any]:
    data: dict[str, Any] = client.get("/api/account", headers=bearer(user_id)).json()["data"]
    return data


def problems(response: Any) -> list[tuple[str, str]]:
    return [(p["field"], p["message"]) for p in response.json().get("validationErrors", [])]


# ---- claim -----------------------------------------------------------------------------


def test_claim_answers_the_oldest_pending_generation_now_processing_with_its_lease(
    client: TestClient, clock: Clock
) -> None:
    first = submit_over_http(client, "alice", quality="high")
    clock.advance(seconds=1)
    submit_over_http(client, "alice")

    response = claim(client, "worker-7")

    assert response.status_code == 200
    assert response.headers["cache-control"] == "no-store"
    data = response.json()["data"]
    assert set(data) == GENERATION_FIELDS | {"workerId", "leaseExpiresAt", "attempt"}
    assert (data["_id"], data["status"], data["workerId"]) == (first, "processing", "worker-7")
    assert data["attempt"] == 1
    assert data["startedAt"] == "2026-11-30T12:00:01.000Z"
    assert data["leaseExpiresAt"] == "2026-11-30T12:10:01.000Z"
    assert data["queuePosition"] is None
    assert data["prompt"] and data["tokenCost"] == 2
    owner_view = client.get(f"/api/generations/{first}", headers=bearer("alice")).json()["data"]
    assert owner_view["status"] == "processing"


def test_claim_answers_204_with_no_body_when_nothing_is_pending(client: TestClient) -> None:
    response = claim(client)
    assert response.status_code == 204
    assert response.content == b""
    assert response.headers["x-content-type-options"] == "nosniff"


def test_admins_may_claim_and_users_may_not(client: TestClient) -> None:
    submit_over_http(client, "alice")
    refused = claim(client, headers=bearer("alice"))
    assert refused.status_code == 403
    assert refused.json()["code"] == "FORBIDDEN"
    assert claim(client, headers={}).status_code == 401
    assert claim(client, headers=bearer("root", "admin")).status_code == 200


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({}, "workerId"),
        ({"workerId": ""}, "workerId"),
        ({"workerId": 7}, "workerId"),
        ({"workerId": "has space"}, "workerId"),
        ({"workerId": "w", "status": "processing"}, "status"),
    ],
)
def test_claim_body_problems_are_validation_errors(
    client: TestClient, body: dict[str, Any], field: str
) -> None:
    submit_over_http(client, "alice")
    response = client.post("/api/worker/claim", json=body, headers=WORKER)
    assert response.status_code == 400
    assert response.json()["code"] == "VALIDATION_ERROR"
    assert [f for f, _ in problems(response)] == [field]
    assert claim(client).status_code == 200  # nothing was claimed by the refused request


# ---- complete --------------------------------------------------------------------------


def test_complete_records_results_and_captures_tokens(client: TestClient) -> None:
    gid = submit_over_http(client, "alice", quality="ultra")
    claim(client)

    response = complete(client, gid, [RESULT, "https://cdn.example.com/results/2.png"])

    assert response.status_code == 200
    data = response.json()["data"]
    assert (data["status"], data["leaseExpiresAt"], data["error"]) == ("completed", None, None)
    assert data["resultImages"] == [RESULT, "https://cdn.example.com/results/2.png"]
    assert data["completedAt"] is not None
    held = account(client)
    assert (held["balance"], held["reserved"], held["available"]) == (8, 0, 8)
    owner_view = client.get(f"/api/generations/{gid}", headers=bearer("alice")).json()["data"]
    assert owner_view["resultImages"] == data["resultImages"]


def test_complete_links_each_result_with_the_details_the_worker_sends(
    client: TestClient,
) -> None:
    gid = submit_over_http(client, "alice")
    claim(client)
    url = "https://res.cloudinary.com/demo/image/upload/v17/atelier/alice/g/result-1.png"
    body = {
        "workerId": "worker-1",
        "resultImages": [url, RESULT],
        "resultDetails": [
            {
                "publicId": "atelier/alice/g/result-1",
                "format": "png",
                "width": 1024,
                "height": 1536,
            },
            {"publicId": "results/1"},
        ],
    }
    response = client.post(f"/api/worker/generations/{gid}/complete", json=body, headers=WORKER)
    assert response.status_code == 200, response.text
    shown = client.get(f"/api/generations/{gid}", headers=bearer("alice")).json()["data"]
    assert shown["resultImages"] == [url, RESULT]
    assert [image for image in shown["images"] if image["role"] == "result"] == [
        {"url": url, "role": "result", "order": 0, "isPrimary": True,
         "publicId": "atelier/alice/g/result-1", "format": "png", "width": 1024, "height": 1536},
        {"url": RESULT, "role": "result", "order": 1, "isPrimary": False,
         "publicId": "results/1", "format": None, "width": None, "height": None},
    ]  # fmt: skip


def test_complete_without_details_records_what_each_url_tells(client: TestClient) -> None:
    gid = submit_over_http(client, "alice")
    claim(client)
    url = "https://res.cloudinary.com/demo/image/upload/c_fill,w_300,h_200/v9/looks/a.jpg"
    assert complete(client, gid, [url, RESULT]).status_code == 200
    shown = client.get(f"/api/generations/{gid}", headers=bearer("alice")).json()["data"]
    results = [image for image in shown["images"] if image["role"] == "result"]
    assert [(r["publicId"], r["format"], r["width"], r["height"]) for r in results] == [
        ("looks/a", "jpg", 300, 200),
        ("", None, None, None),  # not a Cloudinary URL: nothing to tell
    ]


@pytest.mark.parametrize(
    ("details", "field"),
    [
        ([{"publicId": "a"}, {"publicId": "b"}], "resultDetails"),
        ([{"publicId": ""}], "resultDetails.0.publicId"),
        ([{"publicId": "a", "width": 0}], "resultDetails.0.width"),
        ([{"publicId": "a", "colour": "red"}], "resultDetails.0.colour"),
        ("a", "resultDetails"),
    ],
)
def test_complete_refuses_details_that_do_not_fit_and_stores_nothing(
    client: TestClient, details: Any, field: str
) -> None:
    gid = submit_over_http(client, "alice")
    claim(client)
    body = {"workerId": "worker-1", "resultImages": [RESULT], "resultDetails": details}
    response = client.post(f"/api/worker/generations/{gid}/complete", json=body, headers=WORKER)
    assert response.status_code == 400
    assert response.json()["code"] == "VALIDATION_ERROR"
    assert [p["field"] for p in response.json()["validationErrors"]] == [field]
    shown = client.get(f"/api/generations/{gid}", headers=bearer("alice")).json()["data"]
    assert (shown["status"], account(client)["reserved"]) == ("processing", 1)


@pytest.mark.parametrize(
    ("urls", "expected"),
    [
        ([], [("resultImages", "At least one result image is required")]),
        ([f"https://cdn.example.com/{n}.png" for n in range(5)],
         [("resultImages", "At most 4 result images are allowed")]),
        (["http://cdn.example.com/a.png"],
         [("resultImages.0", "Result image URL must be an absolute https URL")]),
        ([RESULT, 42], [("resultImages.1", "Input should be a valid string")]),
        ([RESULT, RESULT], [("resultImages.1", "Result image repeats resultImages.0")]),
        ("https://cdn.example.com/a.png", [("resultImages", "Input should be a valid list")]),
    ],
)  # fmt: skip
def test_complete_validates_result_images_by_field(
    client: TestClient, urls: Any, expected: list[tuple[str, str]]
) -> None:
    gid = submit_over_http(client, "alice")
    claim(client)
    response = complete(client, gid, urls)
    assert response.status_code == 400
    assert response.json()["code"] == "VALIDATION_ERROR"
    assert problems(response) == expected
    assert account(client)["reserved"] == 1


def test_complete_of_a_pending_or_finished_generation_is_invalid_state(
    client: TestClient,
) -> None:
    gid = submit_over_http(client, "alice")
    pending = complete(client, gid, [RESULT])
    assert pending.status_code == 409
    assert pending.json()["code"] == "INVALID_STATE"
    claim(client)
    assert complete(client, gid, [RESULT]).status_code == 200
    again = complete(client, gid, [RESULT])
    assert again.status_code == 409 and again.json()["code"] == "INVALID_STATE"
    assert fail(client, gid).status_code == 409
    assert account(client)["balance"] == 9  # captured once


@pytest.mark.parametrize("path_id", [str(uuid4()), "not-a-uuid"])
def test_worker_commands_on_unknown_generations_are_not_found(
    client: TestClient, path_id: str
) -> None:
    for response in (complete(client, path_id, [RESULT]), fail(client, path_id)):
        assert response.status_code == 404
        assert response.json()["code"] == "NOT_FOUND"


def test_users_may_not_complete_or_fail(client: TestClient) -> None:
    gid = submit_over_http(client, "alice")
    claim(client)
    for response in (
        complete(client, gid, [RESULT], headers=bearer("alice")),
        fail(client, gid, headers=bearer("alice")),
    ):
        assert response.status_code == 403
        assert response.json()["code"] == "FORBIDDEN"
    assert account(client)["reserved"] == 1


# ---- fail ------------------------------------------------------------------------------


def test_fail_records_the_reason_and_releases_tokens(client: TestClient) -> None:
    gid = submit_over_http(client, "alice", quality="high")
    claim(client)

    response = fail(client, gid, "OpenAI refused the prompt")

    assert response.status_code == 200
    data = response.json()["data"]
    assert (data["status"], data["error"]) == ("failed", "OpenAI refused the prompt")
    held = account(client)
    assert (held["balance"], held["reserved"], held["available"]) == (10, 0, 10)


def test_a_worker_reason_is_stored_as_sent(client: TestClient) -> None:
    gid = submit_over_http(client, "alice")
    claim(client)
    assert fail(client, gid, "line one\nline two\tend").json()["data"]["error"] == (
        "line one\nline two\tend"
    )
    shown = client.get(f"/api/generations/{gid}", headers=bearer("alice")).json()["data"]
    assert shown["error"] == "line one\nline two\tend"


@pytest.mark.parametrize("reason", [None, "", "x" * 501, 5])
def test_fail_needs_a_reason(client: TestClient, reason: Any) -> None:
    gid = submit_over_http(client, "alice")
    claim(client)
    body: dict[str, Any] = {"workerId": "worker-1"}
    if reason is not None:
        body["reason"] = reason
    response = client.post(f"/api/worker/generations/{gid}/fail", json=body, headers=WORKER)
    assert response.status_code == 400
    assert [f for f, _ in problems(response)] == ["reason"]


def test_fail_of_a_pending_generation_is_invalid_state(client: TestClient) -> None:
    gid = submit_over_http(client, "alice")
    response = fail(client, gid)
    assert response.status_code == 409 and response.json()["code"] == "INVALID_STATE"


# ---- the lease -------------------------------------------------------------------------


def test_reports_after_the_lease_ran_out_are_refused_and_change_nothing(
    client: TestClient, clock: Clock
) -> None:
    """API.md: a worker whose lease ran out gets 409 INVALID_STATE; the sweeper decides."""
    gid = submit_over_http(client, "alice")
    claim(client)
    clock.advance(seconds=LEASE)
    events = event_count(client, gid)

    for response in (complete(client, gid, [RESULT]), fail(client, gid), heartbeat(client, gid)):
        assert response.status_code == 409
        assert response.json()["code"] == "INVALID_STATE"

    assert event_count(client, gid) == events
    owner_view = client.get(f"/api/generations/{gid}", headers=bearer("alice")).json()["data"]
    assert owner_view["status"] == "processing"
    assert account(client)["reserved"] == 1


def test_only_the_lease_holder_may_heartbeat_complete_or_fail(client: TestClient) -> None:
    gid = submit_over_http(client, "alice")
    claim(client, "worker-1")
    events = event_count(client, gid)

    for response in (
        complete(client, gid, [RESULT], worker_id="worker-2"),
        fail(client, gid, worker_id="worker-2"),
        heartbeat(client, gid, "worker-2"),
    ):
        assert response.status_code == 409
        assert response.json()["code"] == "INVALID_STATE"

    assert event_count(client, gid) == events
    assert account(client)["reserved"] == 1
    assert complete(client, gid, [RESULT], worker_id="worker-1").status_code == 200


def test_a_heartbeat_extends_the_lease_from_now(client: TestClient, clock: Clock) -> None:
    gid = submit_over_http(client, "alice")
    claim(client)
    clock.advance(seconds=LEASE - 1)

    response = heartbeat(client, gid)

    assert response.status_code == 200
    assert response.json()["data"] == {
        "_id": gid,
        "workerId": "worker-1",
        "leaseExpiresAt": "2026-11-30T12:19:59.000Z",
        "cancelled": False,
    }
    clock.advance(seconds=LEASE - 1)
    assert complete(client, gid, [RESULT]).status_code == 200


@pytest.mark.parametrize("route", ["heartbeat", "complete", "fail"])
@pytest.mark.parametrize(("worker_id", "problem"), [(None, "missing"), ("has space", "pattern")])
def test_worker_reports_need_a_valid_worker_id(
    client: TestClient, route: str, worker_id: str | None, problem: str
) -> None:
    gid = submit_over_http(client, "alice")
    claim(client)
    body: dict[str, Any] = {"resultImages": [RESULT]} if route == "complete" else {}
    body |= {"reason": "x"} if route == "fail" else {}
    if worker_id is not None:
        body["workerId"] = worker_id
    response = client.post(f"/api/worker/generations/{gid}/{route}", json=body, headers=WORKER)
    assert response.status_code == 400
    assert [f for f, _ in problems(response)] == ["workerId"]


def test_heartbeat_on_an_unknown_generation_is_not_found(client: TestClient) -> None:
    response = heartbeat(client, str(uuid4()))
    assert response.status_code == 404 and response.json()["code"] == "NOT_FOUND"


@pytest.mark.parametrize(
    ("attempts", "status", "error", "available"),
    [(1, "failed", "timed out", 10), (2, "pending", None, 9)],
)
def test_the_servers_sweeper_requeues_or_times_out_a_lease_that_ran_out(
    make_settings: SettingsFactory,
    clock: Clock,
    attempts: int,
    status: str,
    error: str | None,
    available: int,
) -> None:
    """The sweeper is one of the server's background services: no request ends this one."""
    settings = make_settings(
        lease_seconds=LEASE, lease_max_attempts=attempts, sweep_interval_seconds=0.05
    )
    with lifecycle_client(settings, clock) as served:
        open_account_over_http(served, "alice", 10)
        gid = submit_over_http(served, "alice")
        assert claim(served).status_code == 200
        clock.advance(seconds=LEASE + 1)

        deadline = time.monotonic() + 20
        view: dict[str, Any] = {}
        while time.monotonic() < deadline:
            view = served.get(f"/api/generations/{gid}", headers=bearer("alice")).json()["data"]
            if view["status"] != "processing":
                break
            time.sleep(0.05)

        assert (view["status"], view["error"]) == (status, error)
        assert account(served)["available"] == available
        if status == "pending":
            again = claim(served, "worker-2").json()["data"]
            assert (again["_id"], again["attempt"], view["queuePosition"]) == (gid, 2, 1)
