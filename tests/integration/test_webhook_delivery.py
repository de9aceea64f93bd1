"""Webhook delivery from a running app to a real local receiver: Standard Webhooks signatures
(checked by the `standardwebhooks` package and by hand), the generation as it was at each
event, retries with one webhook-id, failure after the schedule, manual retry, timeouts,
redirects, filters, deletion and the address re-check at delivery."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import logging
import time
from collections.abc import Callable
from typing import Any

import pytest
from standardwebhooks.webhooks import Webhook
from starlette.testclient import TestClient

from application.audit import violations as rule
from infrastructure.audit.parallel import view_checks
from infrastructure.projections.catch_up import catch_up
from tests.conftest import SettingsFactory
from tests.support.builders import admin, bearer, generation_body
from tests.support.read_side import serving
from tests.support.webhook_receiver import Received, Receiver, webhook_receiver

WORKER = bearer("w1", "worker")
DEADLINE_SECONDS = 60


def create_endpoint(client: TestClient, url: str, **body: object) -> dict[str, Any]:
    response = client.post("/api/admin/webhooks", json={"url": url, **body}, headers=admin())
    assert response.status_code == 201, response.text
    data: dict[str, Any] = response.json()["data"]
    return data


def submit(client: TestClient, user_id: str = "alice") -> str:
    if client.get("/api/account", headers=bearer(user_id)).status_code == 401:
        opened = client.post(
            "/api/admin/accounts", json={"userId": user_id, "tokens": 50}, headers=admin()
        )
        assert opened.status_code == 201
    response = client.post("/api/generate", json=generation_body(), headers=bearer(user_id))
    assert response.status_code == 201, response.text
    return str(response.json()["data"]["_id"])


def claim_and_complete(client: TestClient, generation_id: str) -> None:
    claimed = client.post("/api/worker/claim", json={"workerId": "w1"}, headers=WORKER)
    assert claimed.json()["data"]["_id"] == generation_id
    done = client.post(
        f"/api/worker/generations/{generation_id}/complete",
        json={"workerId": "w1", "resultImages": ["https://cdn.example/result.png"]},
        headers=WORKER,
    )
    assert done.status_code == 200, done.text


def messages(client: TestClient, endpoint_id: str, query: str = "") -> list[dict[str, Any]]:
    response = client.get(f"/api/admin/webhooks/{endpoint_id}/messages{query}", headers=admin())
    assert response.status_code == 200, response.text
    found: list[dict[str, Any]] = response.json()["data"]
    return found


def eventually(check: Callable[[], Any]) -> Any:
    """`check()` once it is truthy (the delivery runs in the background)."""
    deadline = time.monotonic() + DEADLINE_SECONDS
    while True:
        found = check()
        if found or time.monotonic() > deadline:
            assert found, "the condition never held"
            return found
        time.sleep(0.05)


def independent_signature(secret: str, received: Received) -> str:
    key = base64.b64decode(secret.removeprefix("whsec_"))
    signed = (
        f"{received.headers['webhook-id']}.{received.headers['webhook-timestamp']}.".encode()
        + received.body
    )
    return "v1," + base64.b64encode(hmac.new(key, signed, hashlib.sha256).digest()).decode()


def assert_signed(secret: str, received: Received) -> dict[str, Any]:
    """Verified by the standardwebhooks package and by an HMAC computed here; the payload."""
    payload: dict[str, Any] = Webhook(secret).verify(received.body, received.headers)
    assert received.headers["webhook-signature"] == independent_signature(secret, received)
    assert received.headers["content-type"] == "application/json"
    return payload


@pytest.fixture
def receiver() -> Any:
    with webhook_receiver() as running:
        yield running


def settings_for(make_settings: SettingsFactory, **overrides: object) -> Any:
    values: dict[str, object] = {
        "webhook_allow_private": True,
        "webhook_retry_schedule": "1,1",
    }
    return make_settings(**{**values, **overrides})


def test_each_status_change_is_sent_signed_with_the_generation_as_it_was_then(
    make_settings: SettingsFactory, receiver: Receiver
) -> None:
    with serving(settings_for(make_settings)) as client:
        endpoint = create_endpoint(client, receiver.url("/all"))
        generation_id = submit(client)
        as_submitted = client.get(f"/api/generations/{generation_id}", headers=bearer("alice"))
        claim_and_complete(client, generation_id)
        as_completed = client.get(f"/api/generations/{generation_id}", headers=bearer("alice"))
        arrived = receiver.wait_for("/all", 3)
        payloads = {p["type"]: p for p in (assert_signed(endpoint["secret"], r) for r in arrived)}
        assert set(payloads) == {
            "generation.created",
            "generation.processing",
            "generation.completed",
        }
        assert payloads["generation.created"]["data"] == as_submitted.json()["data"]
        assert payloads["generation.completed"]["data"] == as_completed.json()["data"]
        processing = payloads["generation.processing"]["data"]
        assert (processing["status"], processing["startedAt"] is not None) == ("processing", True)
        ids = {r.headers["webhook-id"] for r in arrived}
        listed = eventually(
            lambda: [m for m in messages(client, endpoint["id"]) if m["status"] == "succeeded"]
        )
        eventually(lambda: len(messages(client, endpoint["id"], "?status=succeeded")) == 3)
        listed = messages(client, endpoint["id"])
        assert {m["id"] for m in listed} == ids
        assert [m["type"] for m in listed] == [
            "generation.completed",
            "generation.processing",
            "generation.created",
        ]  # newest first
        assert all(m["generationId"] == generation_id for m in listed)
        assert all(m["nextAttemptAt"] is None for m in listed)
        assert all([a["statusCode"] for a in m["attempts"]] == [200] for m in listed)
        stats = client.get("/api/admin/stats", headers=admin()).json()["data"]
        assert stats["webhooks"] == {"pending": 0, "succeeded": 3, "failed": 0}


def test_a_retried_message_is_the_same_message_with_the_same_body(
    make_settings: SettingsFactory, receiver: Receiver
) -> None:
    with serving(settings_for(make_settings, webhook_retry_schedule="1,1,1")) as client:
        endpoint = create_endpoint(client, receiver.url("/flaky", fail_first=2))
        generation_id = submit(client)
        claim_and_complete(client, generation_id)  # the generation moves on meanwhile
        created = [r for r in receiver.wait_for("/flaky", 5) if b'"generation.created"' in r.body]
        eventually(lambda: len(messages(client, endpoint["id"], "?status=succeeded")) == 3)
        by_id: dict[str, list[Received]] = {}
        for received in receiver.at("/flaky"):
            by_id.setdefault(received.headers["webhook-id"], []).append(received)
        assert len(by_id) == 3
        assert sum(len(tries) for tries in by_id.values()) == 5  # two of them failed first
        for tries in by_id.values():
            assert len({t.body for t in tries}) == 1
            for attempt in tries:
                assert_signed(endpoint["secret"], attempt)
        first_created = json.loads(created[0].body)
        assert first_created["data"]["status"] == "pending"  # as it was at that event
        codes = [[a["statusCode"] for a in m["attempts"]] for m in messages(client, endpoint["id"])]
        assert sorted(code for attempts in codes for code in attempts) == [200] * 3 + [500] * 2
        assert all(attempts[-1] == 200 for attempts in codes)


def test_a_message_fails_after_the_whole_schedule_and_a_manual_retry_sends_it_again(
    make_settings: SettingsFactory, receiver: Receiver, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    with serving(settings_for(make_settings)) as client:
        endpoint = create_endpoint(
            client, receiver.url("/down", fail_first=3), events=["generation.created"]
        )
        submit(client)
        receiver.wait_for("/down", 3)
        (message,) = eventually(lambda: messages(client, endpoint["id"], "?status=failed"))
        assert [a["statusCode"] for a in message["attempts"]] == [500, 500, 500]
        assert [a["error"] for a in message["attempts"]] == ["HTTP 500"] * 3
        assert message["nextAttemptAt"] is None
        assert client.get("/api/admin/stats", headers=admin()).json()["data"]["webhooks"] == {
            "pending": 0,
            "succeeded": 0,
            "failed": 1,
        }
        lines = [r.getMessage() for r in caplog.records if r.threadName == "webhook-delivery"]
        assert [line for line in lines if "failing" in line] == [
            f"webhook endpoint {endpoint['id']} failing: HTTP 500"
        ]  # one line when it starts failing, none per attempt
        assert [line for line in lines if "failed after" in line] == [
            f"webhook message {message['id']} failed after 3 attempts: HTTP 500"
        ]
        assert not [line for line in lines if "HTTP Request" in line]
        retry = f"/api/admin/webhooks/{endpoint['id']}/messages/{message['id']}/retry"
        answer = client.post(retry, headers=admin())
        assert answer.status_code == 202
        assert answer.json()["data"]["status"] == "pending"
        fourth = receiver.wait_for("/down", 4)[3]
        assert fourth.headers["webhook-id"] == message["id"]
        eventually(lambda: messages(client, endpoint["id"], "?status=succeeded"))


def test_redirects_are_not_followed(make_settings: SettingsFactory, receiver: Receiver) -> None:
    with serving(settings_for(make_settings, webhook_retry_schedule="")) as client:
        endpoint = create_endpoint(
            client, receiver.url("/moved", redirect=True), events=["generation.created"]
        )
        submit(client)
        (message,) = eventually(lambda: messages(client, endpoint["id"], "?status=failed"))
        (attempt,) = message["attempts"]
        assert attempt["statusCode"] == 307
        assert "redirect" in attempt["error"]
        assert len(receiver.at("/moved")) == 1
        assert receiver.at("/elsewhere") == []


def test_a_hanging_receiver_times_out_and_holds_up_no_other_endpoint(
    make_settings: SettingsFactory, receiver: Receiver
) -> None:
    settings = settings_for(make_settings, webhook_retry_schedule="", webhook_timeout_seconds=3)
    with serving(settings) as client:
        hanging = create_endpoint(client, receiver.url("/hang", hang=True))
        healthy = create_endpoint(client, receiver.url("/ok"))
        generation_ids = [submit(client) for _ in range(6)]  # more than one endpoint's lanes
        receiver.wait_for("/ok", 6)
        # Every healthy message arrived while the hanging ones were still held open.
        assert messages(client, hanging["id"], "?status=failed") == []
        assert receiver.released.is_set() is False
        eventually(lambda: len(messages(client, healthy["id"], "?status=succeeded")) == 6)
        failed = eventually(
            lambda: (
                [m for m in messages(client, hanging["id"], "?status=failed")][5:]
                and messages(client, hanging["id"], "?status=failed")
            )
        )
        assert {m["generationId"] for m in failed} == set(generation_ids)
        assert all(m["attempts"][0]["error"] == "timed out after 3 s" for m in failed)
        assert all(m["attempts"][0]["statusCode"] is None for m in failed)


def test_an_endpoint_gets_only_the_types_it_asked_for(
    make_settings: SettingsFactory, receiver: Receiver
) -> None:
    with serving(settings_for(make_settings)) as client:
        only_completed = create_endpoint(
            client, receiver.url("/done"), events=["generation.completed"]
        )
        everything = create_endpoint(client, receiver.url("/every"))
        generation_id = submit(client)
        claim_and_complete(client, generation_id)
        receiver.wait_for("/every", 3)
        (done,) = receiver.wait_for("/done", 1)
        assert assert_signed(only_completed["secret"], done)["type"] == "generation.completed"
        eventually(lambda: len(messages(client, everything["id"], "?status=succeeded")) == 3)
        assert len(messages(client, only_completed["id"])) == 1


def test_a_deleted_endpoint_gets_nothing_more(
    make_settings: SettingsFactory, receiver: Receiver
) -> None:
    with serving(settings_for(make_settings)) as client:
        deleted = create_endpoint(client, receiver.url("/gone"))
        kept = create_endpoint(client, receiver.url("/kept"))
        assert client.delete(f"/api/admin/webhooks/{deleted['id']}", headers=admin()).status_code
        submit(client)
        receiver.wait_for("/kept", 1)
        eventually(lambda: messages(client, kept["id"], "?status=succeeded"))
        assert receiver.at("/gone") == []
        assert messages(client, deleted["id"]) == []
        (sent,) = messages(client, kept["id"])
        assert client.delete(f"/api/admin/webhooks/{kept['id']}", headers=admin()).status_code
        retry = client.post(
            f"/api/admin/webhooks/{kept['id']}/messages/{sent['id']}/retry", headers=admin()
        )
        assert (retry.status_code, retry.json()["code"]) == (409, "INVALID_STATE")
        wrong_endpoint = client.post(
            f"/api/admin/webhooks/{deleted['id']}/messages/{sent['id']}/retry", headers=admin()
        )
        assert wrong_endpoint.status_code == 404


def test_the_address_is_checked_again_at_every_delivery(
    sqlite_only: SettingsFactory, receiver: Receiver
) -> None:
    """An endpoint accepted while private addresses were allowed (standing in for a name that
    later resolves to a private address) is not called once they are not."""
    with serving(sqlite_only(webhook_allow_private=True)) as client:
        by_name = create_endpoint(
            client, receiver.url("/by-name").replace("127.0.0.1", "localhost")
        )
        by_address = create_endpoint(client, receiver.url("/by-address"))
    strict = sqlite_only(webhook_allow_private=False, webhook_retry_schedule="")
    with serving(strict) as client:
        submit(client)
        for endpoint in (by_name, by_address):
            (message,) = eventually(lambda e=endpoint: messages(client, e["id"], "?status=failed"))
            (attempt,) = message["attempts"]
            assert attempt["statusCode"] is None
            assert attempt["error"].startswith("refused: ")
    assert receiver.received == []


def test_a_named_endpoint_is_called_by_its_name_and_no_cookie_is_ever_sent_back(
    sqlite_only: SettingsFactory, receiver: Receiver
) -> None:
    """The call goes to the address checked, under the endpoint's own Host; a cookie one
    receiver sets (both paths share an address here) never travels with a later message."""
    with serving(settings_for(sqlite_only)) as client:
        named_url = receiver.url("/named", set_cookie=True).replace("127.0.0.1", "localhost")
        create_endpoint(client, named_url)
        create_endpoint(client, receiver.url("/other"))
        claim_and_complete(client, submit(client))
        named, other = receiver.wait_for("/named", 3), receiver.wait_for("/other", 3)
    port = receiver.base_url.rsplit(":", 1)[1]
    assert {r.headers["host"] for r in named} == {f"localhost:{port}"}
    assert {r.headers["host"] for r in other} == {f"127.0.0.1:{port}"}
    assert [r for r in named + other if "cookie" in r.headers] == []


def test_the_audit_compares_the_webhooks_view_and_names_a_row_edited_by_hand(
    make_settings: SettingsFactory, receiver: Receiver
) -> None:
    settings = settings_for(make_settings, webhook_retry_schedule="1")
    with serving(settings) as client:
        endpoint = create_endpoint(client, receiver.url("/audited", fail_first=1))
        submit(client)
        eventually(lambda: len(messages(client, endpoint["id"], "?status=succeeded")) == 1)
        atelier = client.app.state.atelier  # type: ignore[attr-defined]
        models = client.app.state.read_side  # type: ignore[attr-defined]
        view = models.view("webhooks")
        catch_up(atelier, view)
        clean = atelier.audit(observers=view_checks(settings, atelier))
        (message,) = messages(client, endpoint["id"])
        with view.datastore.transaction(commit=True) as cursor:
            cursor.execute(
                view.sql("UPDATE {webhook_messages} SET status = 'failed' WHERE id = ?"),
                (message["id"],),
            )
        tampered = atelier.audit(observers=view_checks(settings, atelier))
    compared = {c.name: c for c in clean.projections}
    assert compared["webhooks"].differences == 0
    assert clean.clean, [str(v) for v in clean.violations.kept]
    mismatches = [v for v in tampered.violations.kept if v.rule == rule.PROJECTION_MISMATCH]
    assert [v.subject for v in mismatches] == ["read model webhooks"]
    assert f"webhook row {message['id']} is ('failed'" in mismatches[0].message
    assert "the replay makes it ('succeeded', None, 2)" in mismatches[0].message
