"""The audit knows webhooks: one message per subscribed generation event, and every message
settled (succeeded, failed after the whole schedule, or pending and not overdue)."""

from __future__ import annotations

from datetime import timedelta
from functools import partial
from uuid import UUID

from application.service import Atelier
from application.webhooks import Webhooks
from domain.webhook_messages import WebhookMessage, message_id
from infrastructure.bootstrap import build_application
from infrastructure.projections.catch_up import catch_up
from infrastructure.projections.read_models import view_on
from infrastructure.webhooks.message_follower import MessageCreation
from infrastructure.webhooks.url_check import DnsUrlCheck
from tests.conftest import SettingsFactory
from tests.support.builders import generation_request
from tests.support.clock import Clock
from web.webhook_presenters import webhook_body_json

URL = "http://127.0.0.1:9/hook"


def violations(atelier: Atelier) -> dict[str, int]:
    return {rule: n for rule, n in atelier.audit().violations.counts.items() if n}


def test_the_audit_checks_every_message_against_the_subscriptions(
    make_settings: SettingsFactory,
) -> None:
    clock = Clock()
    settings = make_settings(webhook_retry_schedule="5,10")
    atelier = build_application(settings, clock=clock)
    try:
        webhooks = Webhooks(atelier, DnsUrlCheck(allow_private=True), webhook_body_json, (5, 10))
        creation = MessageCreation(webhooks, partial(view_on, atelier))
        atelier.open_account("alice", 100)
        endpoint, _ = webhooks.create_endpoint(URL, ["generation.created"], "")
        receipts = [atelier.submit_generation("alice", generation_request()) for _ in range(3)]
        assert violations(atelier) == {"webhook-message-missing": 3}  # none created yet

        catch_up(atelier, creation)
        assert violations(atelier) == {}  # pending, due now: not overdue
        ids = [message_id(endpoint.endpoint_id, r.generation_id, 1) for r in receipts]
        for _ in range(3):  # one message fails after the whole schedule
            webhooks.record_attempt(ids[0], clock(), 500, "HTTP 500", 1)
        webhooks.record_attempt(ids[1], clock(), 200, None, 1)
        clock.advance(seconds=120)
        assert violations(atelier) == {"webhook-message-unsettled": 1}  # ids[2], overdue
        webhooks.record_attempt(ids[2], clock(), 204, None, 1)
        assert violations(atelier) == {}

        # A message failed before its schedule ran out, and one nobody subscribed to.
        early = webhooks.load_message(ids[1])
        early.retry(clock())
        early.record_attempt(clock(), 500, "HTTP 500", 1, ())
        stray = WebhookMessage(
            id=message_id(UUID(int=99), receipts[0].generation_id, 1),
            endpoint_id=UUID(int=99),
            type="generation.created",
            generation_id=receipts[0].generation_id,
            generation_version=1,
            body="{}",
            created_at=clock() - timedelta(seconds=1),
        )
        stray.record_attempt(clock(), 200, None, 1, ())
        atelier.save(early, stray)
        assert violations(atelier) == {
            "webhook-message-unsettled": 1,
            "webhook-message-unexpected": 1,
        }
    finally:
        atelier.close()
