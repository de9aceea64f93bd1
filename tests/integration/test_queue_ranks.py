"""Queue places, depth, processing count and oldest pending time, read from the maintained rank
tree and counters, equal a brute-force count over the queue's rows at every step, on SQLite and
PostgreSQL: through claims, requeues, cancels, ends and expiry, however events fall into batches,
and across every level of the tree (sparse log positions up to 2**52)."""

from __future__ import annotations

import random
from datetime import timedelta
from types import SimpleNamespace
from typing import Any
from uuid import UUID, uuid4

import pytest
from eventsourcing.utils import get_topic

from application.queries import QueueStatus
from domain.generations import Generation
from infrastructure.projections.catch_up import catch_up
from infrastructure.projections.pending_queue import PendingQueue
from infrastructure.projections.queue_ranks import LIMIT, nodes_of
from infrastructure.projections.read_models import ReadModels
from infrastructure.projections.sql import from_micros, micros
from infrastructure.projections.view import ProjectionView
from tests.conftest import SettingsFactory
from tests.support.clock import T0, Clock
from tests.support.lifecycle import submit
from tests.support.read_side import application

# The self-join the places were counted with before the rank tree: O(depth) per place.
SELF_JOIN = (
    "SELECT me.generation_id AS id, COUNT(*) AS n "
    "FROM {pending_queue} me JOIN {pending_queue} ahead "
    "ON ahead.status = 'pending' AND ahead.seq <= me.seq "
    "WHERE me.status = 'pending' GROUP BY me.generation_id"
)
GROUPED = (
    "SELECT status, COUNT(*) AS n, MIN(requested_at) AS oldest FROM {pending_queue} GROUP BY status"
)


def brute_force(queue: PendingQueue) -> tuple[dict[UUID, int], QueueStatus]:
    """Every pending place and the queue's status, counted over every row."""
    view = queue.view
    places = {UUID(row["id"]): row["n"] for row in view.fetch(SELF_JOIN)}
    by_status = {row["status"]: row for row in view.fetch(GROUPED)}
    pending, processing = by_status.get("pending"), by_status.get("processing")
    status = QueueStatus(
        depth=pending["n"] if pending else 0,
        capacity=queue.capacity,
        processing=processing["n"] if processing else 0,
        oldest_pending_at=from_micros(pending["oldest"]) if pending else None,
    )
    return places, status


def assert_matches_brute_force(queue: PendingQueue, known: list[UUID]) -> int:
    places, status = brute_force(queue)
    assert queue.positions_of(known) == places
    assert all(queue.position_of(g) == places.get(g) for g in known[-5:])
    assert queue.status() == status
    assert sorted(places.values()) == list(range(1, len(places) + 1))
    return len(places)


def test_places_match_a_count_through_the_whole_lifecycle(make_settings: SettingsFactory) -> None:
    rng = random.Random(18)
    clock = Clock()
    settings = make_settings(
        rate_limit_enabled=False,
        lease_seconds=60,
        lease_max_attempts=3,
        pending_ttl_seconds=900,
        projections_wait_seconds=0,
    )
    with application(settings, clock) as (atelier, models):
        users = [f"user-{n}" for n in range(4)]
        for user in users:
            atelier.open_account(user, 10_000)
        known: list[UUID] = []
        owner: dict[UUID, str] = {}
        seen = {"depth": 0, "requeued": 0, "expired": 0}
        for step in range(220):
            roll = rng.random()
            if roll < 0.45 or not known:
                user = rng.choice(users)
                generation_id = submit(atelier, user)
                known.append(generation_id)
                owner[generation_id] = user
            elif roll < 0.62:
                catch_up(atelier, models.views["pending_queue"])
                atelier.claim(f"worker-{step % 3}")
            elif roll < 0.72:
                processing = [g for g in known if status_of(atelier, g) == "processing"]
                if processing:
                    ending = rng.choice(processing)
                    worker = atelier.repository.get(ending).worker_id
                    if rng.random() < 0.5:
                        atelier.complete(ending, worker, ["https://cdn.example/r.png"])
                    else:
                        atelier.fail(ending, worker, "model error")
            elif roll < 0.84:
                live = [g for g in known if status_of(atelier, g) in ("pending", "processing")]
                if live:
                    cancelled = rng.choice(live)
                    atelier.cancel(owner[cancelled], cancelled)
            else:
                # Leases run out (requeued at their first place) and, now and then, the
                # oldest pending ones wait past their time to live (expired).
                clock.advance(seconds=rng.choice([61, 61, 61, 400]))
                catch_up(atelier, models.views["pending_queue"])
                report = atelier.sweep()
                seen["requeued"] += len(report.requeued)
                seen["expired"] += len(report.expired)
            if rng.random() < 0.3:
                catch_up(atelier, models.views["pending_queue"], rng.choice([1, 2, 5, 1000]))
                depth = assert_matches_brute_force(models.pending_queue, known)
                seen["depth"] = max(seen["depth"], depth)
        catch_up(atelier, models.views["pending_queue"])
        assert_matches_brute_force(models.pending_queue, known)
        rebuilt_contents = rebuilt(atelier, models)
        assert_matches_brute_force(models.pending_queue, known)
        assert rebuilt_contents
        assert seen["depth"] >= 10  # not trivially short
        assert seen["requeued"] > 0
        assert seen["expired"] > 0


def status_of(atelier: Any, generation_id: UUID) -> str:
    return str(atelier.repository.get(generation_id).status)


def rebuilt(atelier: Any, models: ReadModels) -> dict[str, list[tuple[Any, ...]]]:
    """The view rebuilt in one batch equals the one built step by step, counters included."""
    view = models.views["pending_queue"]
    before = view.contents()
    view.reset()
    catch_up(atelier, view, batch_size=100_000)
    assert view.contents() == before
    return before


def test_places_match_a_count_at_every_level_of_the_tree(make_settings: SettingsFactory) -> None:
    """Synthetic events at sparse log positions (gaps of 1 to 2**44) in random batches."""
    rng = random.Random(1818)
    with application(make_settings(projections_wait_seconds=0), Clock()) as (_, models):
        view = models.views["pending_queue"]
        projection = view.projection
        queue = models.pending_queue
        status: dict[UUID, str] = {}
        known: list[UUID] = []
        events: list[tuple[str, Any, int]] = []
        position = 0
        committed = 0
        for _ in range(40):
            batch = []
            for _ in range(rng.choice([1, 3, 25, 60])):
                position += rng.choice([1, 1, 2, 7, 300, 70_000, 1 << rng.randrange(8, 45)])
                batch.append(synthetic_event(rng, status, known, position))
            events += batch
            view.commit(projection.writes_for(batch), committed, position)
            committed = position
            assert_matches_brute_force(queue, known)
        assert position > 1 << 46  # the upper levels were used
        assert sum(1 for s in status.values() if s == "pending") > 20
        before = view.contents()
        for batch_size in (1, 7):  # a rebuild in other batches reaches the same counters
            view.reset()
            replay(view, events, batch_size)
            assert view.contents() == before
        assert_matches_brute_force(queue, known)


def replay(view: ProjectionView, events: list[tuple[str, Any, int]], batch_size: int) -> None:
    """The test's own events again (there is no log to rebuild from here), in other batches."""
    projection = view.projection
    committed = 0
    for start in range(0, len(events), batch_size):
        batch = events[start : start + batch_size]
        view.commit(projection.writes_for(batch), committed, batch[-1][2])
        committed = batch[-1][2]


def synthetic_event(
    rng: random.Random, status: dict[UUID, str], known: list[UUID], position: int
) -> tuple[str, Any, int]:
    at = T0 + timedelta(microseconds=position % 10_000_000)
    pending = [g for g, s in status.items() if s == "pending"]
    processing = [g for g, s in status.items() if s == "processing"]
    roll = rng.random()
    if roll < 0.45 or not (pending or processing):
        generation_id = uuid4()
        known.append(generation_id)
        status[generation_id] = "pending"
        event = SimpleNamespace(
            originator_id=generation_id, user_id="u", requested_at=at - timedelta(seconds=1)
        )
        cls: type[Generation.Event] = Generation.GenerationRequested
    elif roll < 0.65 and pending:
        generation_id = rng.choice(pending)
        status[generation_id] = "processing"
        event = SimpleNamespace(originator_id=generation_id, lease_expires_at=at, at=at)
        cls = Generation.GenerationStarted
    elif roll < 0.75 and processing:
        generation_id = rng.choice(processing)
        status[generation_id] = "pending"
        event = SimpleNamespace(originator_id=generation_id, at=at)
        cls = Generation.GenerationRequeued
    elif pending and (roll < 0.88 or not processing):
        generation_id = rng.choice(pending)
        del status[generation_id]
        event = SimpleNamespace(originator_id=generation_id, at=at)
        cls = rng.choice([Generation.GenerationCancelled, Generation.GenerationExpired])
    else:
        generation_id = rng.choice(processing)
        del status[generation_id]
        event = SimpleNamespace(originator_id=generation_id, at=at)
        cls = rng.choice(
            [
                Generation.GenerationCompleted,
                Generation.GenerationFailed,
                Generation.ProcessingCancelled,
            ]
        )
    return get_topic(cls), event, position


def test_a_log_position_past_the_tree_is_refused_not_miscounted() -> None:
    assert list(nodes_of(LIMIT - 1))[-1] == (6, (LIMIT - 1) >> 48)
    with pytest.raises(ValueError, match="outside the queue's rank tree"):
        list(nodes_of(LIMIT))
    assert micros(T0) > 0  # requested_at values above are real moments


def test_a_queue_view_built_before_its_counters_is_rebuilt_at_start_up(
    make_settings: SettingsFactory,
) -> None:
    clock = Clock()
    settings = make_settings(projections_wait_seconds=0)
    with application(settings, clock) as (atelier, models):
        atelier.open_account("alice", 100)
        known = [submit(atelier, "alice") for _ in range(5)]
        view = models.views["pending_queue"]
        catch_up(atelier, view)
        # As an older version left it: the queue's rows, and no counters beside them.
        view.execute("DELETE FROM {queue_counts}")
        view.execute("DELETE FROM {pending_counts}")

        models.create_tables()  # what every start-up does

        assert view.position() == 0
        catch_up(atelier, view)
        assert assert_matches_brute_force(models.pending_queue, known) == 5
        position = view.position()
        models.create_tables()  # a view with its counters is left alone
        assert view.position() == position
