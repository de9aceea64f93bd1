"""The audit's replay, in memory: a clean history audits clean, and each planted violation is
named with the positions of the events that show it."""

from __future__ import annotations

import json
from datetime import timedelta
from uuid import uuid4

from eventsourcing.persistence import StoredEvent

from application.audit import violations as rule
from application.audit.reading import EventDecoder
from application.audit.replay import Replay
from application.audit.violations import Violations
from domain.accounts import TokenAccount
from domain.generations import Generation
from domain.results import ResultImage
from tests.audit_support import Story, found, memory_story, sketched


def story_with_alice(tokens: int = 10) -> Story:
    story = memory_story()
    story.open("alice", tokens)
    return story


def test_a_clean_mixed_history_audits_clean_with_its_counts() -> None:
    story = memory_story()
    story.mixed()
    report = story.audit()
    assert report.clean, [str(v) for v in report.violations.kept]
    assert report.accounts == 2
    assert report.generations == 6
    assert report.generation_statuses == {
        "pending": 1,
        "processing": 1,
        "completed": 1,
        "failed": 1,
        "cancelled": 1,
        "expired": 1,
    }
    # granted: 10 + 5 opening, 4 granted; high costs 2, ultra 2, standard 1
    assert report.tokens.as_dict() == {"granted": 19, "reserved": 2, "captured": 2, "released": 4}
    assert report.events == len(story.stored)
    assert (report.first_position, report.last_position) == (1, len(story.stored))
    assert report.events_by_type["TokensReserved"] == 6


def test_available_tokens_below_zero_are_named_at_the_event_that_did_it() -> None:
    story = story_with_alice(tokens=1)
    story.submit("alice")  # available 0 now
    position = story.forge_reservation("alice", uuid4())
    report = story.audit()
    assert found(report, rule.NEGATIVE_AVAILABLE) == [(position,)]


def test_a_second_reservation_for_one_generation_is_named() -> None:
    story = story_with_alice()
    generation = story.submit("alice")
    second = story.forge_reservation("alice", generation.id)
    report = story.audit()
    assert found(report, rule.RESERVED_TWICE) == [(story.reserved_at[generation.id], second)]


def test_a_reservation_of_another_amount_than_the_cost_is_named() -> None:
    story = story_with_alice()
    generation_id = uuid4()
    reservation = story.forge_reservation("alice", generation_id, amount=1)
    _, requested = story.forge_request("alice", cost=2, generation_id=generation_id)
    report = story.audit()
    assert found(report, rule.RESERVATION_AMOUNT) == [(reservation, requested)]


def test_reserving_for_another_users_generation_is_named() -> None:
    story = story_with_alice()
    story.open("bob")
    generation_id = uuid4()
    reservation = story.forge_reservation("bob", generation_id)
    _, requested = story.forge_request("alice", generation_id=generation_id)
    report = story.audit()
    assert found(report, rule.RESERVATION_ACCOUNT) == [(reservation, requested)]


def test_a_generation_without_a_reservation_and_a_reservation_without_a_generation() -> None:
    story = story_with_alice()
    story.submit("alice")
    _, requested_alone = story.forge_request("alice")
    lonely = story.forge_reservation("alice", uuid4())
    report = story.audit()
    assert found(report, rule.RESERVATION_MISSING) == [(requested_alone,)]
    assert found(report, rule.RESERVATION_ORPHANED) == [(lonely,)]


def test_capturing_twice_is_named_with_both_captures() -> None:
    story = story_with_alice()
    generation = story.submit("alice")
    story.claim(generation)
    _, completed, captured = story.complete(generation)  # its result linked first
    again = story.forge(
        TokenAccount.TokensCaptured,
        story.accounts["alice"],
        generation_id=str(generation.id),
        amount=1,
        at=story.clock,
    )
    report = story.audit()
    assert found(report, rule.RESOLVED_TWICE) == [(captured, again)]
    assert completed < captured


def test_capturing_what_was_never_reserved_is_named() -> None:
    story = story_with_alice()
    position = story.forge(
        TokenAccount.TokensReleased,
        story.accounts["alice"],
        generation_id=str(uuid4()),
        amount=1,
        at=story.clock,
    )
    assert found(story.audit(), rule.RESOLVED_UNRESERVED) == [(position,)]


def test_capturing_for_a_failed_generation_is_a_mismatch() -> None:
    story = story_with_alice()
    generation = story.submit("alice")
    story.claim(generation)
    generation.fail("worker-1", "model error", story.clock)
    (failed,) = story.save(generation)
    captured = story.forge(
        TokenAccount.TokensCaptured,
        story.accounts["alice"],
        generation_id=str(generation.id),
        amount=1,
        at=story.clock,
    )
    report = story.audit()
    assert found(report, rule.RESOLUTION_MISMATCH) == [(failed, captured)]


def test_releasing_a_completed_generation_is_a_mismatch() -> None:
    story = story_with_alice()
    generation = story.submit("alice")
    story.claim(generation)
    generation.complete("worker-1", [ResultImage.of_url("https://cdn.example/r.png")], story.clock)
    _, completed = story.save(generation)  # its result linked first
    released = story.forge(
        TokenAccount.TokensReleased,
        story.accounts["alice"],
        generation_id=str(generation.id),
        amount=1,
        at=story.clock,
    )
    assert found(story.audit(), rule.RESOLUTION_MISMATCH) == [(completed, released)]


def test_an_ended_generation_whose_tokens_stay_reserved_is_named() -> None:
    story = story_with_alice()
    generation = story.submit("alice")
    generation.cancel(story.clock)
    story.queue.leave(generation.id, "cancelled", story.clock)
    (cancelled, _) = story.save(generation, story.queue)
    report = story.audit()
    assert found(report, rule.RESOLUTION_MISSING) == [(story.reserved_at[generation.id], cancelled)]
    assert report.tokens.reserved == 1


def test_capturing_while_still_processing_is_named_as_early() -> None:
    story = story_with_alice()
    generation = story.submit("alice")
    story.claim(generation)
    captured = story.forge(
        TokenAccount.TokensCaptured,
        story.accounts["alice"],
        generation_id=str(generation.id),
        amount=1,
        at=story.clock,
    )
    within_the_lease = story.clock
    for _ in range(10):  # plenty happens in between
        other = story.submit("alice", minutes_later=7)
        story.cancel(other)
    generation.complete(
        "worker-1", [ResultImage.of_url("https://cdn.example/r.png")], within_the_lease
    )
    _, completed = story.save(generation)  # its result linked first
    report = story.audit()
    assert found(report, rule.RESOLVED_EARLY) == [(captured, completed)]


def test_a_capture_with_no_end_state_at_all_is_named_as_early() -> None:
    story = story_with_alice()
    generation = story.submit("alice")
    captured = story.forge(
        TokenAccount.TokensCaptured,
        story.accounts["alice"],
        generation_id=str(generation.id),
        amount=1,
        at=story.clock,
    )
    assert found(story.audit(), rule.RESOLVED_EARLY) == [(captured,)]


def test_capturing_another_amount_than_reserved_is_named() -> None:
    story = story_with_alice()
    generation = story.submit("alice")
    story.claim(generation)
    generation.complete("worker-1", [ResultImage.of_url("https://cdn.example/r.png")], story.clock)
    story.save(generation)
    captured = story.forge(
        TokenAccount.TokensCaptured,
        story.accounts["alice"],
        generation_id=str(generation.id),
        amount=5,
        at=story.clock,
    )
    report = story.audit()
    assert found(report, rule.RESOLUTION_AMOUNT) == [(story.reserved_at[generation.id], captured)]
    assert found(report, rule.NEGATIVE_AVAILABLE) == []  # 10 - 5 is still 5


def test_a_transition_out_of_an_end_state_is_named_with_the_end_state() -> None:
    story = story_with_alice()
    generation = story.submit("alice")
    story.claim(generation)
    _, completed, _ = story.complete(generation)
    restarted = story.forge(
        Generation.GenerationStarted,
        generation,
        worker_id="w2",
        lease_expires_at=story.clock,
        at=story.clock,
    )
    failed = story.forge(Generation.GenerationFailed, generation, reason="late", at=story.clock)
    assert found(story.audit(), rule.ILLEGAL_TRANSITION) == [
        (completed, restarted),
        (completed, failed),
    ]


def test_completing_a_pending_generation_is_an_illegal_transition() -> None:
    story = story_with_alice()
    generation = story.submit("alice")
    completed = story.forge(
        Generation.GenerationCompleted,
        generation,
        result_images=["https://cdn.example/r.png"],
        at=story.clock,
    )
    assert found(story.audit(), rule.ILLEGAL_TRANSITION) == [(completed,)]


def test_more_acceptances_in_one_rolling_hour_than_the_limit_are_named() -> None:
    story = story_with_alice(tokens=100)
    generations = [story.submit("alice", minutes_later=10) for _ in range(4)]
    assert found(story.audit(hourly_limit=4), rule.RATE_LIMIT) == []
    report = story.audit(hourly_limit=3)
    assert found(report, rule.RATE_LIMIT) == [tuple(story.reserved_at[g.id] for g in generations)]


def test_acceptances_exactly_an_hour_apart_are_in_different_windows() -> None:
    story = story_with_alice(tokens=100)
    story.submit("alice", minutes_later=0)
    story.submit("alice", minutes_later=60)
    story.submit("alice", minutes_later=60)
    assert story.audit(hourly_limit=1).clean


def test_an_acceptance_recorded_out_of_time_order_still_counts_in_its_hour() -> None:
    story = story_with_alice(tokens=100)
    story.submit("alice", minutes_later=30)
    story.submit("alice", minutes_later=30)
    story.clock -= timedelta(minutes=45)  # another host's clock was behind
    story.submit("alice", minutes_later=0)
    report = story.audit(hourly_limit=2)
    assert len(found(report, rule.RATE_LIMIT)) == 1


def test_rate_limiting_switched_off_checks_no_window() -> None:
    story = story_with_alice(tokens=100)
    for _ in range(5):
        story.submit("alice", minutes_later=0)
    assert story.audit(hourly_limit=None).clean


def test_more_pending_generations_than_the_capacity_are_named_once_per_overflow() -> None:
    story = story_with_alice(tokens=100)
    generations = [story.submit("alice") for _ in range(4)]
    report = story.audit(queue_capacity=2)
    assert found(report, rule.QUEUE_CAPACITY) == [(story.requested_at[generations[2].id],)]
    assert story.audit(queue_capacity=4).clean


def test_a_claim_that_does_not_leave_the_queue_is_a_queue_mismatch() -> None:
    story = story_with_alice()
    generation = story.submit("alice")
    queued = len(story.stored)
    generation.start("w1", story.clock, story.clock)
    story.save(generation)  # the queue aggregate was not saved with it
    assert found(story.audit(), rule.QUEUE_MISMATCH) == [(queued,)]


def test_a_missing_event_shows_as_a_version_gap() -> None:
    story = story_with_alice()
    alice = story.accounts["alice"]
    alice.version += 1  # as if version 2 was deleted
    position = story.grant("alice", 3)
    report = story.audit()
    assert found(report, rule.VERSION_GAP) == [(position,)]


def test_reserving_on_a_disabled_account_is_named() -> None:
    story = story_with_alice()
    alice = story.accounts["alice"]
    alice.disable("abuse", story.clock)
    story.save(alice)
    reservation = story.forge_reservation("alice", uuid4())
    assert found(story.audit(), rule.RESERVED_WHILE_DISABLED) == [(reservation,)]


def test_unknown_and_unreadable_records_are_named() -> None:
    story = story_with_alice()
    alice = story.accounts["alice"]
    unknown = story.append_raw(uuid4(), 1, "domain.accounts:TokenAccount.TokensGifted", b"{}")
    broken = story.append_raw(
        alice.id, 2, "domain.accounts:TokenAccount.TokensGranted", b'{"amount": '
    )
    missing_field = story.append_raw(
        alice.id, 3, "domain.accounts:TokenAccount.TokensGranted", b'{"reason": "x"}'
    )
    report = story.audit()
    assert found(report, rule.UNREADABLE_EVENT) == [(unknown,), (broken,), (missing_field,)]


def test_an_event_class_the_audit_was_not_taught_is_named() -> None:
    story = story_with_alice()
    position = story.append_raw(
        uuid4(), 1, "domain.generations:Generation.Event", b'{"timestamp": null}'
    )
    assert found(story.audit(), rule.UNKNOWN_EVENT) == [(position,)]


def test_an_event_of_an_aggregate_never_created_is_an_orphan() -> None:
    story = memory_story()
    stray = story.mapper.to_stored_event(
        TokenAccount.TokensGranted(
            originator_id=uuid4(),
            originator_version=2,
            timestamp=story.clock,
            amount=1,
            reason="?",
            at=story.clock,
            idempotency=None,
        )
    )
    story.stored.append(stray)
    assert found(story.audit(), rule.ORPHAN_EVENT) == [(1,)]


def test_violations_are_counted_in_full_but_kept_only_up_to_a_limit() -> None:
    kept = Violations(limit=3)
    for position in range(10):
        kept.add(rule.RATE_LIMIT, "account a", "too many", position)
    assert kept.total == 10
    assert len(kept.kept) == 3
    assert kept.counts[rule.RATE_LIMIT] == 10


def test_settled_generations_shrink_to_an_integer() -> None:
    story = memory_story()
    story.mixed()
    replay = Replay(EventDecoder(story.mapper), 10, 50)
    replay.apply_all(story.notifications())
    kinds = sorted(type(life).__name__ for life in replay.generations.values())
    assert kinds == ["Life", "Life", "int", "int", "int", "int"]


def test_an_event_of_an_aggregate_the_audit_does_not_answer_for_leaves_a_clean_audit_clean() -> (
    None
):
    story = memory_story()
    story.mixed()
    story.save(sketched())
    report = story.audit()
    assert report.clean, [str(v) for v in report.violations.kept]
    assert (report.events_by_type["Created"], report.events_by_type["Drawn"]) == (1, 1)


def test_two_generations_from_one_request_are_named_with_both() -> None:
    story = story_with_alice()
    first = story.submit("alice", request_id="req-1")
    story.submit("alice", request_id="req-2")
    second = story.submit("alice", request_id="req-1")  # the request recorded again
    report = story.audit()
    shown_by = (story.requested_at[first.id], story.requested_at[second.id])
    assert found(report, rule.REQUEST_RECORDED_TWICE) == [shown_by]
    assert report.as_dict()["violationsByRule"] == {rule.REQUEST_RECORDED_TWICE: 1}
    (violation,) = report.violations.kept
    assert str(second.id) in violation.subject and str(first.id) in violation.message


def test_two_users_whose_clients_chose_the_same_request_id_are_not_named() -> None:
    story = story_with_alice()
    story.open("bob", 10)
    story.submit("alice", request_id="client-1")
    story.submit("bob", request_id="client-1")
    report = story.audit()
    assert report.clean, [str(v) for v in report.violations.kept]


def test_generations_made_by_no_request_or_before_request_ids_are_never_named_together() -> None:
    story = story_with_alice()
    story.submit("alice", request_id=None)
    story.submit("alice", request_id=None)
    for _ in range(2):  # written before GenerationRequested recorded its request (v1)
        generation = story.submit("alice")
        record = story.stored[story.requested_at[generation.id] - 1]
        state = json.loads(record.state)
        del state["request_id"], state["class_version"]
        story.stored[story.requested_at[generation.id] - 1] = StoredEvent(
            record.originator_id, 1, record.topic, json.dumps(state).encode()
        )
    report = story.audit()
    assert report.clean, [str(v) for v in report.violations.kept]
    assert report.generations == 4
