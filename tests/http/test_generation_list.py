"""GET /api/generations: the caller's generations from the read models, newest first, a page at
a time, with a cursor that neither repeats nor skips while new generations arrive."""

from __future__ import annotations

import base64
import threading
from collections.abc import Iterator
from typing import Any
from uuid import UUID

import pytest
from starlette.testclient import TestClient

from tests.conftest import SettingsFactory
from tests.support.builders import bearer, image_url
from tests.support.clients import atelier as atelier_of
from tests.support.clients import open_account, post_generation
from tests.support.lifecycle import submit
from tests.support.read_side import cancel, complete, expire, fail, serving, start


@pytest.fixture
def client(make_settings: SettingsFactory) -> Iterator[TestClient]:
    with serving(make_settings(max_requests_per_hour=1000, queue_max_size=1000)) as client:
        yield client


def listed(client: TestClient, user: str = "alice", **params: Any) -> dict[str, Any]:
    response = client.get("/api/generations", params=params, headers=bearer(user))
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    assert set(body) == {"success", "data", "nextCursor"}
    assert body["success"] is True
    return body


def ids_of(body: dict[str, Any]) -> list[str]:
    return [item["_id"] for item in body["data"]]


def walk(client: TestClient, user: str = "alice", **params: Any) -> list[str]:
    """Every id the list hands out, following nextCursor to the end."""
    seen: list[str] = []
    cursor = None
    while True:
        body = listed(client, user, **params, **({"cursor": cursor} if cursor else {}))
        seen += ids_of(body)
        cursor = body["nextCursor"]
        if cursor is None:
            return seen


def test_a_list_read_right_after_a_submission_includes_it(
    make_settings: SettingsFactory,
) -> None:
    # The runner looks only every 0.3 s, so the list must wait for it to see the write.
    settings = make_settings(projections_poll_seconds=0.3)
    with serving(settings) as client:
        open_account(client, "alice", tokens=100)
        for _ in range(3):
            created = post_generation(client, "alice")
            body = listed(client)
            assert ids_of(body)[0] == created
            assert body["data"][0]["status"] == "pending"


def test_items_show_what_the_generation_route_shows_in_every_status(client: TestClient) -> None:
    open_account(client, "alice", tokens=100)
    atelier = atelier_of(client)
    product, model = image_url("shirts/a"), image_url("models/b")
    ids = [
        post_generation(client, "alice", productImages=[product], modelImages=[model])
        for _ in range(7)
    ]
    done, failed, running, cancelled, expired = (UUID(i) for i in ids[:5])
    start(atelier, done)
    complete(atelier, done)
    start(atelier, failed)
    fail(atelier, failed, "the model refused")
    start(atelier, running)
    cancel(atelier, cancelled)
    expire(atelier, expired)

    items = listed(client, limit=100)["data"]
    assert [item["_id"] for item in items] == ids[::-1]
    assert [item["status"] for item in items] == [
        "pending",
        "pending",
        "expired",
        "cancelled",
        "processing",
        "failed",
        "completed",
    ]
    for item in items:
        one = client.get(f"/api/generations/{item['_id']}", headers=bearer("alice"))
        assert item == one.json()["data"]
    assert [item["queuePosition"] for item in items[:2]] == [2, 1]


def test_newest_first_in_pages_that_add_up_to_the_whole_list(client: TestClient) -> None:
    open_account(client, "alice", tokens=100)
    ids = [post_generation(client, "alice") for _ in range(7)]

    first = listed(client, limit=3)
    assert ids_of(first) == ids[::-1][:3]
    second = listed(client, limit=3, cursor=first["nextCursor"])
    assert ids_of(second) == ids[::-1][3:6]
    last = listed(client, limit=3, cursor=second["nextCursor"])
    assert (ids_of(last), last["nextCursor"]) == (ids[:1], None)
    assert walk(client, limit=1) == ids[::-1]
    assert ids_of(listed(client)) == ids[::-1]  # default limit 20
    assert listed(client, limit=7)["nextCursor"] is None


def test_the_default_page_holds_twenty(client: TestClient) -> None:
    open_account(client, "alice", tokens=100)
    ids = [post_generation(client, "alice") for _ in range(21)]
    body = listed(client)
    assert ids_of(body) == ids[::-1][:20]
    assert ids_of(listed(client, cursor=body["nextCursor"])) == ids[:1]


def test_the_status_filter_pages_through_matching_generations_only(client: TestClient) -> None:
    open_account(client, "alice", tokens=100)
    atelier = atelier_of(client)
    ids = [post_generation(client, "alice") for _ in range(6)]
    for cancelled in ids[::2]:
        cancel(atelier, UUID(cancelled))

    assert walk(client, status="cancelled", limit=2) == ids[::2][::-1]
    assert walk(client, status="pending", limit=2) == ids[1::2][::-1]
    assert walk(client, status="completed") == []
    assert walk(client, status="", limit=100) == ids[::-1]  # empty: no filter


def test_a_user_lists_only_their_own_generations(client: TestClient) -> None:
    open_account(client, "alice", tokens=100)
    open_account(client, "bob", tokens=100)
    mine = post_generation(client, "alice")
    theirs = post_generation(client, "bob")
    assert ids_of(listed(client, "alice")) == [mine]
    assert ids_of(listed(client, "bob")) == [theirs]
    open_account(client, "carol", tokens=100)
    assert listed(client, "carol") == {"success": True, "data": [], "nextCursor": None}


def test_paging_while_new_generations_arrive_neither_repeats_nor_skips(
    client: TestClient,
) -> None:
    open_account(client, "alice", tokens=1000)
    atelier = atelier_of(client)
    before = [post_generation(client, "alice") for _ in range(9)]
    arrived: list[str] = []
    errors: list[BaseException] = []
    may_submit, submitted = threading.Semaphore(1), threading.Semaphore(0)
    paging_done = threading.Event()

    def submit_one_per_page() -> None:
        """In its own thread: one new generation before each page the reader asks for."""
        while may_submit.acquire(timeout=30) and not paging_done.is_set():
            try:
                arrived.append(str(submit(atelier, "alice")))
            except BaseException as error:  # reported by the assertion below
                errors.append(error)
                return
            finally:
                submitted.release()

    writer = threading.Thread(target=submit_one_per_page)
    writer.start()
    try:
        seen: list[str] = []
        cursor = None
        while True:
            assert submitted.acquire(timeout=30)  # a new generation landed since the last page
            params = {"limit": 2, **({"cursor": cursor} if cursor else {})}
            body = listed(client, **params)
            seen += ids_of(body)
            cursor = body["nextCursor"]
            if cursor is None:
                break
            may_submit.release()
    finally:
        paging_done.set()
        may_submit.release()
        writer.join()

    assert errors == []
    assert len(arrived) == 5  # 9 earlier generations in pages of 2: five pages
    assert seen[0] in arrived  # the first page already had a newcomer on top...
    newest_first = [i for i in seen if i not in arrived]
    assert newest_first == before[::-1]  # ...and every earlier one came exactly once, in order
    assert len(seen) == len(set(seen))
    assert set(seen) <= set(before) | set(arrived)
    assert walk(client, limit=50)[: len(arrived)] == arrived[::-1]  # a new walk starts on top


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"status": "done"}, "status"),
        ({"status": "PENDING"}, "status"),
        ({"limit": "0"}, "limit"),
        ({"limit": "101"}, "limit"),
        ({"limit": "-1"}, "limit"),
        ({"limit": "1.5"}, "limit"),
        ({"limit": "ten"}, "limit"),
        ({"limit": "0001000"}, "limit"),
        ({"cursor": "not-a-cursor"}, "cursor"),
        ({"cursor": base64.urlsafe_b64encode(b"other:12").decode()}, "cursor"),
        ({"cursor": base64.urlsafe_b64encode(b"g1:-4").decode()}, "cursor"),
        ({"cursor": base64.urlsafe_b64encode(b"g1:9999999999999999999").decode()}, "cursor"),
        ({"cursor": base64.urlsafe_b64encode("g1:²".encode()).decode()}, "cursor"),
        ({"cursor": "%%%"}, "cursor"),
        ({"page": "2"}, "page"),
        ({"limit": ["2", "3"]}, "limit"),
    ],
)
def test_bad_parameters_are_a_validation_error_naming_them(
    client: TestClient, params: dict[str, Any], field: str
) -> None:
    open_account(client, "alice", tokens=100)
    response = client.get("/api/generations", params=params, headers=bearer("alice"))
    assert response.status_code == 400
    body = response.json()
    assert (body["success"], body["code"]) == (False, "VALIDATION_ERROR")
    assert [problem["field"] for problem in body["validationErrors"]] == [field]
    assert body["requestId"] == response.headers["X-Request-ID"]


def test_the_limit_bounds_are_accepted(client: TestClient) -> None:
    open_account(client, "alice", tokens=100)
    post_generation(client, "alice")
    assert len(listed(client, limit=1)["data"]) == 1
    assert len(listed(client, limit=100)["data"]) == 1


def test_the_list_needs_an_open_enabled_account(client: TestClient) -> None:
    assert client.get("/api/generations").status_code == 401
    bad = client.get("/api/generations", headers={"Authorization": "Bearer nonsense"})
    assert (bad.status_code, bad.json()["code"]) == (401, "AUTHENTICATION_REQUIRED")
    unknown = client.get("/api/generations", headers=bearer("nobody"))
    assert (unknown.status_code, unknown.json()["error"]) == (401, "User not found")
    open_account(client, "alice", tokens=100)
    client.post(
        "/api/admin/accounts/alice/disable",
        json={"reason": "abuse"},
        headers=bearer("root", "admin"),
    )
    disabled = client.get("/api/generations", headers=bearer("alice"))
    assert (disabled.status_code, disabled.json()["code"]) == (403, "ACCOUNT_DISABLED")
