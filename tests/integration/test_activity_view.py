"""The operators' read side on SQLite and PostgreSQL: activity per minute against a hand count,
rebuilt equal to built, compared by the audit (which names a corrupted bucket); every user's
generations, the top users and the users near their hourly limit from the same workload."""

from __future__ import annotations

from datetime import timedelta

from application.audit import violations as rule
from application.queries import UserActivity, UserNearLimit
from application.service import Atelier
from infrastructure.audit.parallel import view_checks
from infrastructure.projections.catch_up import catch_up
from tests.conftest import SettingsFactory
from tests.integration.test_projections import workload
from tests.support.clock import T0, Clock
from tests.support.lifecycle import submit
from tests.support.read_side import application, catch_up_all

ZERO = dict.fromkeys(
    ("submitted", "completed", "failed", "cancelled", "expired", "tokensCaptured"), 0
)


def extended_workload(atelier: Atelier, clock: Clock) -> None:
    """`workload` (its submissions at minutes 1-6, its ends at 8, 10, 11, 12; now minute 13),
    then two more of alice's half a minute later, in minute 13."""
    workload(atelier, clock)
    clock.advance(seconds=30)
    submit(atelier, "alice")
    submit(atelier, "alice")


def test_activity_buckets_match_the_hand_count(make_settings: SettingsFactory) -> None:
    clock = Clock()
    with application(make_settings(), clock) as (atelier, models):
        extended_workload(atelier, clock)
        catch_up_all(atelier, models)
        buckets = models.activity.minutes(15, clock())  # now: 12:13:30, so 11:59 to 12:13

    assert [b.start for b in buckets] == [T0 + timedelta(minutes=m) for m in range(-1, 14)]
    expected = {minute: dict(ZERO) for minute in range(-1, 14)}
    for minute in range(1, 7):  # a1, a2, b1, a3, b2, a4
        expected[minute]["submitted"] = 1
    expected[13]["submitted"] = 2
    expected[8] |= {"completed": 1, "tokensCaptured": 1}  # a1, standard: 1 token
    expected[10]["failed"] = 1  # b1
    expected[11]["cancelled"] = 1  # a2
    expected[12]["expired"] = 1  # b2
    assert [b.figures for b in buckets] == list(expected.values())


def test_activity_of_one_minute_and_of_a_quiet_day(make_settings: SettingsFactory) -> None:
    clock = Clock()
    with application(make_settings(), clock) as (atelier, models):
        extended_workload(atelier, clock)
        catch_up_all(atelier, models)
        (now,) = models.activity.minutes(1, clock())
        day = models.activity.minutes(1440, clock() + timedelta(days=2))
    assert now.start == T0 + timedelta(minutes=13)
    assert now.figures == ZERO | {"submitted": 2}
    assert len(day) == 1440
    assert all(bucket.figures == ZERO for bucket in day)


def test_the_activity_view_rebuilt_equals_the_one_built_step_by_step(
    make_settings: SettingsFactory,
) -> None:
    clock = Clock()
    with application(make_settings(), clock) as (atelier, models):
        view = models.view("activity")
        workload(atelier, clock, between=lambda: catch_up(atelier, view, 2))
        built = view.contents()
        assert built["activity_minutes"]
        view.reset()
        catch_up(atelier, view, 1000)
        assert view.contents() == built


def test_the_audit_compares_the_activity_view_and_names_a_corrupted_bucket(
    make_settings: SettingsFactory,
) -> None:
    settings = make_settings()
    clock = Clock()
    with application(settings, clock) as (atelier, models):
        workload(atelier, clock)
        catch_up_all(atelier, models)
        clean = atelier.audit(observers=view_checks(settings, atelier))
        view = models.view("activity")
        minute = T0 + timedelta(minutes=10)  # b1 failed then
        with view.datastore.transaction(commit=True) as cursor:  # type: ignore[attr-defined]
            cursor.execute(
                view.sql("UPDATE {activity_minutes} SET value = 3 WHERE figure = ? AND minute = ?"),
                ("failed", int(minute.timestamp()) * 1_000_000),
            )
        corrupted = atelier.audit(observers=view_checks(settings, atelier))

    assert clean.clean, [str(v) for v in clean.violations.kept]
    compared = {c.name: c for c in clean.projections}
    assert compared["activity"].position == clean.last_position
    assert compared["activity"].differences == 0
    mismatches = [v for v in corrupted.violations.kept if v.rule == rule.PROJECTION_MISMATCH]
    assert [v.subject for v in mismatches] == ["read model activity"]
    assert "2026-11-30T12:10Z failed is 3; the replay makes it 1" in mismatches[0].message


def test_every_users_generations_top_users_and_users_near_the_limit(
    make_settings: SettingsFactory,
) -> None:
    clock = Clock()
    with application(make_settings(max_requests_per_hour=7), clock) as (atelier, models):
        extended_workload(atelier, clock)
        catch_up_all(atelier, models)
        generations = models.generations
        first = generations.page_of_everyone(None, None, 5, None)
        rest = generations.page_of_everyone(None, None, 5, first.next_before)
        failed = generations.page_of_everyone(None, "failed", 10, None)
        bobs = generations.page_of_everyone("bob", None, 10, None)
        nobody = generations.page_of_everyone("carol", None, 10, None)
        top_since_start = generations.top_users(T0, 10)
        top_since_b2 = generations.top_users(T0 + timedelta(minutes=5), 10)
        top_one = generations.top_users(T0, 1)
        near = models.near_limit(clock(), 10)
        near_later = models.near_limit(T0 + timedelta(hours=1, minutes=1), 10)

    users = [r.user_id for r in first.items + rest.items]
    assert users == ["alice", "alice", "alice", "bob", "alice", "bob", "alice", "alice"]
    assert rest.next_before is None
    assert [(r.user_id, r.status, r.error) for r in failed.items] == [
        ("bob", "failed", "model error")
    ]
    assert [r.status for r in bobs.items] == ["expired", "failed"]
    assert nobody.items == []
    # alice: a1-a4 and two more, a1 completed (1 token); bob: b1, b2, none completed.
    assert top_since_start == [UserActivity("alice", 6, 1), UserActivity("bob", 2, 0)]
    # After b2's minute began (it was accepted at 12:05 exactly): a4 and the last two.
    assert top_since_b2 == [UserActivity("alice", 3, 0)]
    assert top_one == [UserActivity("alice", 6, 1)]
    # Limit 7: near from 6 (80%); alice has 6 in the hour, the oldest (a1) leaves at 13:01.
    assert near == [UserNearLimit("alice", 6, 7, T0 + timedelta(hours=1, minutes=1))]
    assert near_later == []  # a1 has left: 5 of 7
