"""Message creation follows the log with tracking: one message per (endpoint, generation event)
after the endpoint's creation and before its deletion, however many followers race, and again
after a crash between saving messages and moving the position."""

from __future__ import annotations

import threading
from collections import Counter
from functools import partial

import pytest

from application.service import Atelier
from application.webhooks import Webhooks
from domain.webhook_messages import WebhookMessage
from infrastructure.bootstrap import build_application
from infrastructure.projections.catch_up import catch_up
from infrastructure.projections.follower import PositionMoved
from infrastructure.projections.read_models import view_on
from infrastructure.webhooks.message_follower import MessageCreation
from infrastructure.webhooks.url_check import DnsUrlCheck
from tests.conftest import SettingsFactory
from tests.support.builders import generation_request
from web.webhook_presenters import webhook_body_json

URL = "http://127.0.0.1:9/hook"


def webhooks_on(atelier: Atelier) -> Webhooks:
    return Webhooks(atelier, DnsUrlCheck(allow_private=True), webhook_body_json, (1,))


def creation_on(atelier: Atelier) -> MessageCreation:
    return MessageCreation(webhooks_on(atelier), partial(view_on, atelier))


def created_messages(atelier: Atelier) -> Counter[tuple[str, str, int]]:
    """(endpoint, generation, version) of every MessageCreated in the log."""
    found: Counter[tuple[str, str, int]] = Counter()
    for note in atelier.recorder.select_notifications(start=None, limit=1_000_000):
        event = atelier.mapper.to_domain_event(note)
        if isinstance(event, WebhookMessage.MessageCreated):
            found[(str(event.endpoint_id), str(event.generation_id), event.generation_version)] += 1
    return found


def test_racing_followers_and_a_replay_create_each_message_once(
    make_settings: SettingsFactory,
) -> None:
    settings = make_settings(max_requests_per_hour=1000)
    atelier = build_application(settings)
    others = [build_application(settings, create_tables=False) for _ in range(2)]
    try:
        webhooks = webhooks_on(atelier)
        atelier.open_account("alice", 100)
        before = atelier.submit_generation("alice", generation_request())  # before any endpoint
        everything, _ = webhooks.create_endpoint(URL, None, "")
        completed_only, _ = webhooks.create_endpoint(URL, ["generation.completed"], "")
        created_only, _ = webhooks.create_endpoint(URL, ["generation.created"], "")
        receipts = [atelier.submit_generation("alice", generation_request()) for _ in range(20)]
        webhooks.delete_endpoint(created_only.endpoint_id)
        after_delete = atelier.submit_generation("alice", generation_request())

        followers = [creation_on(other) for other in others]
        errors: list[BaseException] = []

        def follow(application: Atelier, follower: MessageCreation) -> None:
            try:
                catch_up(application, follower, 3)  # small batches: the two interleave
            except BaseException as error:
                errors.append(error)

        threads = [
            threading.Thread(target=follow, args=pair)
            for pair in zip(others, followers, strict=True)
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert errors == []
        assert followers[0].position() == followers[1].position() > 0

        expected = Counter(
            {(str(everything.endpoint_id), str(r.generation_id), 1): 1 for r in receipts}
            | {(str(created_only.endpoint_id), str(r.generation_id), 1): 1 for r in receipts}
            | {(str(everything.endpoint_id), str(after_delete.generation_id), 1): 1}
        )
        assert created_messages(atelier) == expected
        assert str(before.generation_id) not in {g for _, g, _ in created_messages(atelier)}
        assert str(completed_only.endpoint_id) not in {e for e, _, _ in expected}

        # A crash after the messages were saved, before the position moved: done again.
        followers[0].store.reset()
        catch_up(others[0], followers[0])
        assert created_messages(atelier) == expected
    finally:
        for application in (atelier, *others):
            application.close()


def test_a_batch_read_before_another_follower_moved_on_creates_nothing(
    make_settings: SettingsFactory,
) -> None:
    """The loser of a race must not pair old events with endpoints created after them."""
    settings = make_settings()
    atelier = build_application(settings)
    other = build_application(settings, create_tables=False)
    try:
        atelier.open_account("alice", 100)
        atelier.submit_generation("alice", generation_request())
        webhooks_on(atelier).create_endpoint(URL, None, "")
        ahead, behind = creation_on(atelier), creation_on(other)
        notes = atelier.recorder.select_notifications(start=None, limit=100, topics=ahead.topics)
        stale = [(n.topic, atelier.mapper.to_domain_event(n), n.id) for n in notes]
        catch_up(atelier, ahead)  # the endpoint is now in the subscriptions table

        with pytest.raises(PositionMoved):
            behind.apply(iter(stale), expected=0, reached=stale[-1][2])
        assert created_messages(atelier) == Counter()  # `before` came before the endpoint
    finally:
        atelier.close()
        other.close()
