"""Stored event topics and shapes do not change with the event classes, on SQLite and PostgreSQL.

Every event type is recorded under its historical topic; rows written by hand exactly as an
earlier release stored them load into the aggregates, the history and the read models, and the
aggregates carry on from them.
"""

from __future__ import annotations

import json
from functools import partial
from typing import Any
from uuid import UUID, uuid4

from eventsourcing.persistence import StoredEvent

from application.webhooks import Webhooks
from domain.accounts import TokenAccount
from domain.generations import PROCESSING, Generation
from domain.identifiers import account_id, queue_id
from domain.queue import GenerationQueue
from domain.webhook_messages import message_id
from infrastructure.projections.catch_up import catch_up
from infrastructure.projections.read_models import view_on
from infrastructure.webhooks.message_follower import MessageCreation
from infrastructure.webhooks.url_check import DnsUrlCheck
from tests.conftest import SettingsFactory
from tests.support.clock import T0, Clock
from tests.support.lifecycle import submit, wired_application
from tests.support.read_side import (
    application,
    cancel,
    catch_up_all,
    complete,
    expire,
    fail,
    start,
)
from web.webhook_presenters import webhook_body_json

OLD_TOPICS = {
    "domain.accounts:TokenAccount.AccountOpened",
    "domain.accounts:TokenAccount.TokensGranted",
    "domain.accounts:TokenAccount.TokensReserved",
    "domain.accounts:TokenAccount.TokensCaptured",
    "domain.accounts:TokenAccount.TokensReleased",
    "domain.accounts:TokenAccount.AccountDisabled",
    "domain.accounts:TokenAccount.AccountEnabled",
    "domain.generations:Generation.GenerationRequested",
    "domain.generations:Generation.ImageLinked",
    "domain.generations:Generation.GenerationStarted",
    "domain.generations:Generation.GenerationCompleted",
    "domain.generations:Generation.GenerationFailed",
    "domain.generations:Generation.GenerationCancelled",
    "domain.generations:Generation.GenerationExpired",
    "domain.queue:GenerationQueue.QueueOpened",
    "domain.queue:GenerationQueue.GenerationQueued",
    "domain.queue:GenerationQueue.GenerationLeftQueue",
}
LEASE_TOPICS = {
    "domain.generations:Generation.GenerationStarted",
    "domain.generations:Generation.LeaseExtended",
    "domain.generations:Generation.GenerationRequeued",
    "domain.generations:Generation.ProcessingCancelled",
    "domain.queue:GenerationQueue.GenerationRequeued",
}
STAMP = {"_type_": "datetime_iso", "_data_": "2026-11-30T12:00:00+00:00"}
LEASE_END = {"_type_": "datetime_iso", "_data_": "2026-11-30T12:10:00+00:00"}


def test_every_event_type_is_stored_under_its_old_topic(make_settings: SettingsFactory) -> None:
    with application(make_settings(), Clock(T0)) as (atelier, _):
        atelier.open_account("alice", 10)
        atelier.grant_tokens("alice", 4, "top-up")
        ids = [submit(atelier, "alice") for _ in range(4)]
        start(atelier, ids[0])
        complete(atelier, ids[0])
        start(atelier, ids[1])
        fail(atelier, ids[1])
        cancel(atelier, ids[2])
        expire(atelier, ids[3])
        atelier.disable_account("alice", "abuse")
        atelier.enable_account("alice")
        notifications = atelier.recorder.select_notifications(start=None, limit=1000)
        assert {n.topic for n in notifications} == OLD_TOPICS


def test_the_lease_events_are_stored_under_their_topics(make_settings: SettingsFactory) -> None:
    """A heartbeat, a requeue after a lapsed lease, and a cancel while processing."""
    clock = Clock(T0)
    settings = make_settings(lease_seconds=600, lease_max_attempts=2)
    with wired_application(settings, clock) as atelier:
        atelier.open_account("alice", 10)
        requeued, cancelled = submit(atelier, "alice"), submit(atelier, "alice")
        assert atelier.claim("worker-1") is not None
        atelier.heartbeat(requeued, "worker-1")
        clock.advance(seconds=600)
        assert atelier.sweep().requeued == [requeued]
        assert atelier.claim("worker-2") is not None  # `requeued` again, at the head
        assert atelier.claim("worker-3") is not None
        atelier.cancel("alice", cancelled)
        notifications = atelier.recorder.select_notifications(start=None, limit=1000)
        assert {n.topic for n in notifications} >= LEASE_TOPICS


def row(originator_id: UUID, version: int, topic: str, state: dict[str, Any]) -> StoredEvent:
    """A stored event exactly as an earlier release wrote it."""
    text = json.dumps({"timestamp": STAMP, **state}, separators=(",", ":"))
    return StoredEvent(originator_id, version, topic, text.encode())


def old_rows(generation_id: UUID) -> list[StoredEvent]:
    """An account, a generation being worked on, and the queue, in the old topics and shapes."""
    account, queue = account_id("olga"), queue_id()
    requested = {
        "originator_topic": "domain.generations:Generation",
        "user_id": "olga",
        "product_images": ["https://res.cloudinary.com/demo/image/upload/p.jpg"],
        "model_images": [],
        "style": "realistic",
        "aspect_ratio": "1:1",
        "quality": "standard",
        "model": "gpt-4.1-dalle-3",
        "custom_prompt": None,
        "parameters": {"guidance_scale": 7.5, "num_inference_steps": 50, "strength": 0.8},
        "prompt": "Fashion model wearing the clothing item",
        "token_cost": 1,
        "queue_position": 1,
        "requested_at": STAMP,
    }
    image = {
        "url": "https://res.cloudinary.com/demo/image/upload/p.jpg",
        "role": "product",
        "order": 0,
        "is_primary": True,
        "public_id": "p",
        "format": "jpg",
        "width": None,
        "height": None,
    }
    gid = str(generation_id)
    accounts = "domain.accounts:TokenAccount"
    generations = "domain.generations:Generation"
    queues = "domain.queue:GenerationQueue"
    return [
        row(account, 1, f"{accounts}.AccountOpened",
            {"originator_topic": accounts, "user_id": "olga", "tokens": 5, "at": STAMP}),
        row(account, 2, f"{accounts}.TokensGranted",
            {"amount": 3, "reason": "welcome", "at": STAMP, "idempotency": None}),
        row(account, 3, f"{accounts}.TokensReserved",
            {"generation_id": gid, "amount": 1, "at": STAMP, "idempotency": None}),
        row(account, 4, f"{accounts}.AccountDisabled", {"reason": "check", "at": STAMP}),
        row(account, 5, f"{accounts}.AccountEnabled", {"at": STAMP}),
        row(generation_id, 1, f"{generations}.GenerationRequested", requested),
        row(generation_id, 2, f"{generations}.ImageLinked", image),
        row(queue, 1, f"{queues}.QueueOpened", {"originator_topic": queues}),
        row(queue, 2, f"{queues}.GenerationQueued", {"generation_id": gid, "at": STAMP}),
        row(queue, 3, f"{queues}.GenerationLeftQueue",
            {"generation_id": gid, "reason": "claimed", "at": STAMP}),
        row(generation_id, 3, f"{generations}.GenerationStarted",
            {"worker_id": "worker-1", "lease_expires_at": LEASE_END, "at": STAMP}),
    ]  # fmt: skip


def test_events_stored_before_the_classes_were_explicit_still_load(
    make_settings: SettingsFactory,
) -> None:
    generation_id = uuid4()
    with application(make_settings(), Clock(T0)) as (atelier, models):
        atelier.recorder.insert_events(old_rows(generation_id))

        account: TokenAccount = atelier.repository.get(account_id("olga"))
        assert (account.balance, account.reservations, account.disabled) == (
            8,
            {str(generation_id): 1},
            False,
        )
        generation: Generation = atelier.repository.get(generation_id)
        assert (generation.status, generation.worker_id) == (PROCESSING, "worker-1")
        assert generation.images[0]["publicId"] == "p"
        queue: GenerationQueue = atelier.repository.get(queue_id())
        assert queue.pending == 0

        history = atelier.account_history("olga")
        assert [entry.type for entry in history.entries] == [
            "AccountOpened",
            "TokensGranted",
            "TokensReserved",
            "AccountDisabled",
            "AccountEnabled",
        ]
        assert history.entries[1].data == {
            "amount": 3,
            "reason": "welcome",
            "at": T0,
            "idempotency": None,
        }

        catch_up_all(atelier, models)
        assert models.pending_queue.status().processing == 1
        assert models.dashboard.totals().tokens["reserved"] == 1

        complete(atelier, generation_id)  # and the aggregates carry on from the old rows
        catch_up_all(atelier, models)
        reloaded: TokenAccount = atelier.repository.get(account_id("olga"))
        assert (reloaded.balance, reloaded.reservations) == (7, {})
        totals = models.dashboard.totals()
        assert (totals.generations["completed"], totals.tokens["captured"]) == (1, 1)


WEBHOOK_TOPICS = {
    "domain.webhook_endpoints:WebhookEndpoint.EndpointCreated",
    "domain.webhook_endpoints:WebhookEndpoint.EndpointDeleted",
    "domain.webhook_messages:WebhookMessage.MessageCreated",
    "domain.webhook_messages:WebhookMessage.AttemptRecorded",
    "domain.webhook_messages:WebhookMessage.RetryRequested",
    "domain.webhook_messages:WebhookMessage.MessageAbandoned",
}


def test_the_webhook_events_are_stored_under_their_topics(make_settings: SettingsFactory) -> None:
    """An endpoint, a message with an attempt and a retry, and one abandoned by a deletion."""
    with application(make_settings(), Clock(T0)) as (atelier, _):
        webhooks = Webhooks(atelier, DnsUrlCheck(allow_private=True), webhook_body_json, (1,))
        endpoint, _ = webhooks.create_endpoint("http://127.0.0.1:9/hook", None, "")
        atelier.open_account("alice", 10)
        ids = [submit(atelier, "alice") for _ in range(2)]
        creation = MessageCreation(webhooks, partial(view_on, atelier))
        catch_up(atelier, creation)
        first, second = (message_id(endpoint.endpoint_id, g, 1) for g in ids)
        webhooks.record_attempt(first, atelier.clock(), 500, "HTTP 500", 1)
        webhooks.retry_message(endpoint.endpoint_id, first)
        webhooks.delete_endpoint(endpoint.endpoint_id)
        assert webhooks.sending(second) is None  # abandoned, unsent
        notifications = atelier.recorder.select_notifications(start=None, limit=1000)
        assert {n.topic for n in notifications} >= WEBHOOK_TOPICS
