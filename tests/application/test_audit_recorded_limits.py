"""The audit judges each acceptance by the limits recorded with it (TokensReserved v2's
hourly_limit, GenerationRequested v3's queue_capacity), not by the shell that runs it; events
stored before the limits were recorded are judged by the audit's own settings."""

from __future__ import annotations

from application.audit import violations as rule
from tests.audit_support import Story, found, memory_story


def story_with_alice() -> Story:
    story = memory_story()
    story.open("alice", 100)
    return story


def test_acceptances_within_their_recorded_hourly_limit_are_clean_under_a_lower_shell_limit() -> (
    None
):
    story = story_with_alice()
    for _ in range(4):
        story.submit("alice", minutes_later=5, hourly_limit=10)
    assert story.audit(hourly_limit=3).clean  # the server allowed 10 an hour then


def test_acceptances_over_their_recorded_hourly_limit_are_named_whatever_the_shell_says() -> None:
    story = story_with_alice()
    generations = [story.submit("alice", minutes_later=5, hourly_limit=3) for _ in range(4)]
    for shell_limit in (None, 100):
        report = story.audit(hourly_limit=shell_limit)
        expected = tuple(story.reserved_at[g.id] for g in generations)
        assert found(report, rule.RATE_LIMIT) == [expected]


def test_a_recorded_zero_means_rate_limiting_was_off() -> None:
    story = story_with_alice()
    for _ in range(5):
        story.submit("alice", minutes_later=1, hourly_limit=0)
    assert story.audit(hourly_limit=1).clean


def test_a_limit_lowered_later_does_not_turn_earlier_acceptances_into_violations() -> None:
    story = story_with_alice()
    for _ in range(3):
        story.submit("alice", minutes_later=5, hourly_limit=5)
    story.submit("alice", minutes_later=70, hourly_limit=1)  # alone in its hour
    assert story.audit(hourly_limit=1).clean


def test_pending_generations_within_their_recorded_capacity_are_clean_under_a_smaller_shell() -> (
    None
):
    story = story_with_alice()
    for _ in range(4):
        story.submit("alice", queue_capacity=50)
    assert story.audit(queue_capacity=2).clean


def test_pending_generations_over_their_recorded_capacity_are_named_under_a_larger_shell() -> None:
    story = story_with_alice()
    generations = [story.submit("alice", queue_capacity=2) for _ in range(4)]
    report = story.audit(queue_capacity=50)
    assert found(report, rule.QUEUE_CAPACITY) == [(story.requested_at[generations[2].id],)]


def test_events_recorded_before_limits_were_are_judged_by_the_shell() -> None:
    story = story_with_alice()
    generations = [story.submit("alice", minutes_later=5) for _ in range(4)]
    assert story.audit(hourly_limit=4, queue_capacity=4).clean
    report = story.audit(hourly_limit=3, queue_capacity=3)
    assert found(report, rule.RATE_LIMIT) == [tuple(story.reserved_at[g.id] for g in generations)]
    assert found(report, rule.QUEUE_CAPACITY) == [(story.requested_at[generations[3].id],)]
