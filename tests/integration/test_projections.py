"""Each projection against a hand-counted workload, on SQLite and PostgreSQL; rebuilds equal
incremental builds; waits never hang on events a view does not follow."""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from datetime import timedelta
from uuid import UUID

from application.service import Atelier
from application.views import RateLimitStatus
from domain.errors import RateLimitExceeded
from infrastructure.projections.catch_up import catch_up
from tests.conftest import SettingsFactory
from tests.support.builders import image_url
from tests.support.clock import T0, Clock
from tests.support.lifecycle import submit
from tests.support.read_side import (
    application,
    cancel,
    catch_up_all,
    complete,
    expire,
    fail,
    start,
)


def workload(
    atelier: Atelier, clock: Clock, between: Callable[[], object] = lambda: None
) -> dict[str, UUID]:
    """Three accounts, six generations, every way a generation can end, one still running.

    Hand count: granted 10 + 5 + 0 + 4 = 19; reserved a1 1, a2 2, b1 2, a3 1, b2 1, a4 1 = 8,
    of which captured 1 (a1) and released 5 (b1 2, a2 2, b2 1), so 2 outstanding (a3, a4).
    """
    ids: dict[str, UUID] = {}
    atelier.open_account("alice", 10)
    atelier.open_account("bob", 5)
    atelier.open_account("carol", 0)
    atelier.grant_tokens("alice", 4, "top-up")
    between()
    for name, user, changes in (
        ("a1", "alice", {}),
        ("a2", "alice", {"quality": "high"}),
        ("b1", "bob", {"quality": "ultra"}),
        ("a3", "alice", {"model_images": (image_url("models/m1", cloud="demo"),)}),
        ("b2", "bob", {"product_images": (image_url("p/one"), image_url("p/two"))}),
        ("a4", "alice", {}),
    ):
        clock.advance(minutes=1)
        ids[name] = submit(atelier, user, **changes)
        between()
    for move, name in (
        (start, "a1"),
        (complete, "a1"),
        (start, "b1"),
        (fail, "b1"),
        (cancel, "a2"),
        (expire, "b2"),
        (start, "a4"),
    ):
        clock.advance(minutes=1)
        move(atelier, ids[name])
        between()
    return ids


def test_each_projection_matches_the_hand_counted_workload(make_settings: SettingsFactory) -> None:
    clock = Clock()
    with application(make_settings(), clock) as (atelier, models):
        ids = workload(atelier, clock)
        catch_up_all(atelier, models)

        totals = models.dashboard.totals()
        assert totals.generations == {
            "pending": 1,
            "processing": 1,
            "completed": 1,
            "failed": 1,
            "cancelled": 1,
            "expired": 1,
        }
        assert totals.tokens == {"granted": 19, "reserved": 2, "captured": 1, "released": 5}

        queue = models.pending_queue
        status = queue.status()
        assert (status.depth, status.processing, status.capacity) == (1, 1, 50)
        assert status.oldest_pending_at == T0 + timedelta(minutes=4)  # a3
        assert queue.position_of(ids["a3"]) == 1
        assert queue.position_of(ids["a4"]) is None  # processing
        assert queue.position_of(ids["a1"]) is None  # ended
        assert queue.oldest_pending(10) == [ids["a3"]]
        lease_ends = T0 + timedelta(minutes=13 + 10)  # a4 started at +13 min
        assert queue.expired_leases(lease_ends - timedelta(seconds=1), 10) == []
        assert queue.expired_leases(lease_ends, 10) == [ids["a4"]]
        assert queue.pending_requested_before(T0 + timedelta(minutes=4), 10) == [ids["a3"]]
        assert queue.pending_requested_before(T0 + timedelta(minutes=3), 10) == []

        alice = models.generations.page("alice", None, 10, None)
        assert [r.generation_id for r in alice.items] == [ids[n] for n in ("a4", "a3", "a2", "a1")]
        assert [r.status for r in alice.items] == [
            "processing",
            "pending",
            "cancelled",
            "completed",
        ]
        assert alice.next_before is None
        bob = models.generations.page("bob", None, 10, None)
        assert [(r.generation_id, r.status) for r in bob.items] == [
            (ids["b2"], "expired"),
            (ids["b1"], "failed"),
        ]
        assert bob.items[1].error == "model error"
        assert models.generations.page("carol", None, 10, None).items == []
        pending_only = models.generations.page("alice", "pending", 10, None).items
        assert [(r.generation_id, r.queue_position) for r in pending_only] == [(ids["a3"], 1)]

        # Every field of every record equals its aggregate's.
        for record in [*alice.items, *bob.items]:
            generation = atelier.repository.get(record.generation_id)
            assert record.user_id == generation.user_id
            assert record.status == generation.status
            assert record.product_images == generation.product_images
            assert record.model_images == generation.model_images
            assert record.images == generation.images
            assert (record.style, record.aspect_ratio, record.quality, record.model) == (
                generation.style,
                generation.aspect_ratio,
                generation.quality,
                generation.model,
            )
            assert record.custom_prompt == generation.custom_prompt
            assert record.parameters == generation.parameters
            assert record.prompt == generation.prompt
            assert record.token_cost == generation.token_cost
            assert record.created_at == generation.requested_at
            assert record.updated_at == generation.updated_at
            assert record.started_at == generation.started_at
            assert record.completed_at == generation.completed_at
            assert record.result_images == generation.result_images
            assert record.error == generation.error

        images = models.views["images"].fetch(
            "SELECT generation_id, role, image_order, url, is_primary, public_id, format, "
            "width, height, user_id FROM {files} ORDER BY generation_id, role DESC, image_order"
        )
        # a1, a2, b1, a4: one each; a3, b2: two each; and the completed one's result
        assert len(images) == 9
        a3 = [row for row in images if row["generation_id"] == str(ids["a3"])]
        assert [(r["role"], r["image_order"], bool(r["is_primary"])) for r in a3] == [
            ("product", 0, True),
            ("model", 0, True),
        ]
        assert a3[1] | {"is_primary": bool(a3[1]["is_primary"])} == {
            "generation_id": str(ids["a3"]),
            "role": "model",
            "image_order": 0,
            "url": image_url("models/m1"),
            "is_primary": True,
            "public_id": "models/m1",
            "format": "jpg",
            "width": 400,
            "height": 600,
            "user_id": "alice",
        }
        b2 = [row for row in images if row["generation_id"] == str(ids["b2"])]
        assert [(r["public_id"], r["image_order"], bool(r["is_primary"])) for r in b2] == [
            ("p/one", 0, True),
            ("p/two", 1, False),
        ]
        assert {row["user_id"] for row in b2} == {"bob"}

        now = clock()
        alice_window = models.rate_limits.window("alice", now)
        assert (alice_window.used, alice_window.remaining) == (4, 6)
        assert alice_window.resets_at == T0 + timedelta(minutes=1, hours=1)
        later = T0 + timedelta(hours=1, minutes=1)  # a1's acceptance has just left the window
        assert models.rate_limits.window("alice", later).used == 3
        assert models.rate_limits.window("bob", now).used == 2
        assert models.rate_limits.window("carol", now) == RateLimitStatus(10, 0, None, now)

        assert [(s.position, s.lag) for s in models.status()] == [
            (atelier.recorder.max_notification_id(), 0)
        ] * len(models.views)


def test_a_rebuild_equals_the_incremental_build(make_settings: SettingsFactory) -> None:
    clock = Clock()
    with application(make_settings(), clock) as (atelier, models):
        # Small batches after every step: positions land mid-save and between saves.
        workload(atelier, clock, between=lambda: catch_up_all(atelier, models, batch_size=2))
        incremental = {name: view.contents() for name, view in models.views.items()}
        assert incremental["user_generations"]["user_generations"]  # not trivially empty

        for view in models.views.values():
            view.reset()
            assert view.position() == 0
            assert all(rows == [] for rows in view.contents().values())
        catch_up_all(atelier, models, batch_size=1000)

        assert {name: view.contents() for name, view in models.views.items()} == incremental


def test_a_view_reaches_the_head_even_when_no_event_since_concerns_it(
    make_settings: SettingsFactory,
) -> None:
    clock = Clock()
    settings = make_settings(projections_wait_seconds=30)
    with application(settings, clock) as (atelier, models):
        view = models.views["pending_queue"]
        atelier.open_account("dave", 3)  # an account event: not one the queue follows
        atelier.grant_tokens("dave", 1, "more")
        head = atelier.recorder.max_notification_id()

        assert catch_up(atelier, view) == 0  # nothing applied...
        assert view.position() == head  # ...yet the position moved to the head
        assert models.freshness.wait(view) is True  # so a read-your-writes wait completes


def test_a_read_waits_within_its_bound_then_answers_with_what_the_view_has(
    make_settings: SettingsFactory,
) -> None:
    clock = Clock()
    with application(make_settings(projections_wait_seconds=0.05), clock) as (atelier, models):
        atelier.open_account("erin", 3)
        submit(atelier, "erin")
        view = models.views["pending_queue"]

        assert models.freshness.wait(view) is False  # no runner here: the bound passes
        assert models.pending_queue.status().depth == 0  # and the read answers, stale

        catch_up(atelier, view)
        assert models.freshness.wait(view) is True
        assert models.pending_queue.status().depth == 1


def test_the_rate_limit_view_agrees_with_the_account_aggregate(
    make_settings: SettingsFactory,
) -> None:
    clock = Clock()
    settings = make_settings(max_requests_per_hour=4, queue_max_size=1000)
    with application(settings, clock) as (atelier, models):
        users = ("ann", "ben", "cat")
        for user in users:
            atelier.open_account(user, 1000)
        steps = [7, 3, 11, 29, 2, 17, 41, 5, 13, 23, 19, 31, 37, 1, 43]  # minutes, irregular
        checked = 0
        for round_number, minutes in enumerate(steps * 3):
            clock.advance(minutes=minutes)
            user = users[round_number % len(users)]
            with contextlib.suppress(RateLimitExceeded):  # a refusal counts nowhere
                submit(atelier, user)
            if round_number % 4 != 3:
                continue  # let acceptances pile up: a batch then folds several per account
            catch_up_all(atelier, models)
            for who in users:
                for now in (clock(), clock() + timedelta(minutes=30), clock() + timedelta(hours=1)):
                    account = atelier.load_account(who)
                    expected = RateLimitStatus.of(account, atelier.policy.hourly_limit, now)
                    assert models.rate_limits.window(who, now) == expected
                    checked += 1
        assert checked == len(steps) * 3 // 4 * len(users) * 3
