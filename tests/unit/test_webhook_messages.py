"""WebhookMessage: the retry schedule, success, failure after the schedule, manual retry."""

from __future__ import annotations

from datetime import timedelta
from uuid import UUID

import pytest

from domain.errors import InvalidTransition
from domain.webhook_messages import WebhookMessage, message_id
from tests.support.clock import T0

SCHEDULE = (5, 300)
ENDPOINT = UUID(int=1)
GENERATION = UUID(int=2)


def new_message() -> WebhookMessage:
    return WebhookMessage(
        id=message_id(ENDPOINT, GENERATION, 1),
        endpoint_id=ENDPOINT,
        type="generation.created",
        generation_id=GENERATION,
        generation_version=1,
        body="{}",
        created_at=T0,
    )


def test_message_ids_are_one_per_endpoint_and_generation_event() -> None:
    assert message_id(ENDPOINT, GENERATION, 1) == message_id(ENDPOINT, GENERATION, 1)
    assert message_id(ENDPOINT, GENERATION, 1) != message_id(ENDPOINT, GENERATION, 2)
    assert message_id(ENDPOINT, GENERATION, 1) != message_id(UUID(int=3), GENERATION, 1)


def test_a_new_message_is_due_at_once() -> None:
    message = new_message()
    assert message.status == "pending"
    assert message.is_due(T0)


def test_a_2xx_succeeds_and_nothing_more_is_due() -> None:
    message = new_message()
    message.record_attempt(T0, 204, None, 3, SCHEDULE)
    assert (message.status, message.next_attempt_at) == ("succeeded", None)
    assert not message.is_due(T0 + timedelta(days=1))


def test_failures_follow_the_schedule_then_the_message_fails() -> None:
    message = new_message()
    message.record_attempt(T0, 500, "HTTP 500", 3, SCHEDULE)
    assert message.next_attempt_at == T0 + timedelta(seconds=5)
    assert not message.is_due(T0 + timedelta(seconds=4))
    later = T0 + timedelta(seconds=5)
    message.record_attempt(later, None, "timed out", 10_000, SCHEDULE)
    assert message.next_attempt_at == later + timedelta(seconds=300)
    message.record_attempt(later + timedelta(seconds=300), 302, "HTTP 302", 3, SCHEDULE)
    assert (message.status, message.attempts, message.next_attempt_at) == ("failed", 3, None)
    with pytest.raises(InvalidTransition):
        message.record_attempt(later, 200, None, 1, SCHEDULE)


def test_a_manual_retry_sends_again_now_with_the_whole_schedule() -> None:
    message = new_message()
    for _ in range(3):
        message.record_attempt(T0, 500, "HTTP 500", 1, SCHEDULE)
    assert message.status == "failed"
    retried_at = T0 + timedelta(hours=1)
    message.retry(retried_at)
    assert (message.status, message.next_attempt_at) == ("pending", retried_at)
    message.record_attempt(retried_at, 500, "HTTP 500", 1, SCHEDULE)
    assert message.next_attempt_at == retried_at + timedelta(seconds=5)


def test_a_deleted_endpoints_message_ends_failed_and_only_a_pending_one() -> None:
    message = new_message()
    message.abandon("endpoint deleted", T0)
    assert (message.status, message.next_attempt_at) == ("failed", None)
    with pytest.raises(InvalidTransition):
        message.abandon("endpoint deleted", T0)
