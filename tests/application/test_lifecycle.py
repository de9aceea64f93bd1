"""A generation's life after acceptance, on SQLite and PostgreSQL, through the wired application:
claim, heartbeat, complete, fail, cancel, the time limits (requeue or time out), and what each
does to the owner's tokens."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from datetime import timedelta
from uuid import UUID, uuid4

import pytest

from application.errors import GenerationNotFound
from application.service import Atelier
from application.sweeps import SweepReport
from domain.errors import InvalidRequest, InvalidTransition, QueueFull
from domain.generations import TIMED_OUT
from tests.conftest import SettingsFactory
from tests.support.clock import Clock
from tests.support.lifecycle import (
    account,
    event_names,
    generation,
    queue_depth,
    submit,
    wired_application,
)

RESULT = "https://cdn.example.com/results/1.png"
LEASE = 600
TTL = 3600
LEASE_DELTA = timedelta(seconds=LEASE)


@pytest.fixture
def app(make_settings: SettingsFactory, clock: Clock) -> Iterator[Atelier]:
    settings = make_settings(lease_seconds=LEASE, lease_max_attempts=1, pending_ttl_seconds=TTL)
    with wired_application(settings, clock) as atelier:
        atelier.open_account("alice", 10)
        atelier.open_account("bob", 10)
        yield atelier


def stored(app: Atelier) -> int:
    return app.recorder.max_notification_id() or 0


def tokens(app: Atelier, user_id: str) -> tuple[int, int, int]:
    held = account(app, user_id)
    return held.balance, held.reserved, held.available


# ---- claims ----------------------------------------------------------------------------


def test_claim_takes_the_oldest_pending_generation_and_leases_it(
    app: Atelier, clock: Clock
) -> None:
    first = submit(app, "alice")
    clock.advance(seconds=1)
    second = submit(app, "bob")
    clock.advance(seconds=1)

    claimed = app.claim("worker-1")

    assert claimed is not None
    assert claimed.generation_id == first
    stored_generation = generation(app, first)
    assert stored_generation.status == "processing"
    assert stored_generation.worker_id == "worker-1"
    assert stored_generation.started_at == clock.now
    assert (stored_generation.lease_expires_at - clock.now).total_seconds() == LEASE
    assert generation(app, second).status == "pending"
    assert queue_depth(app) == 1
    assert tokens(app, "alice") == (10, 1, 9)  # still reserved, not yet captured
    assert event_names(app, first)[-1] == "GenerationStarted"

    again = app.claim("worker-2")
    assert again is not None and again.generation_id == second


def test_claim_answers_none_when_nothing_is_pending(app: Atelier) -> None:
    assert app.claim("worker-1") is None
    only = submit(app, "alice")
    assert app.claim("worker-1") is not None
    assert app.claim("worker-1") is None
    assert generation(app, only).worker_id == "worker-1"


def test_claim_skips_generations_that_left_pending(app: Atelier) -> None:
    cancelled = submit(app, "alice")
    waiting = submit(app, "bob")
    app.cancel("alice", cancelled)
    claimed = app.claim("worker-1")
    assert claimed is not None and claimed.generation_id == waiting


# ---- end states and their tokens --------------------------------------------------------


def test_completion_records_results_and_captures_the_tokens(app: Atelier, clock: Clock) -> None:
    gid = submit(app, "alice", quality="high")  # costs 2
    app.claim("worker-1")
    clock.advance(seconds=30)

    details = app.complete(gid, "worker-1", [RESULT, "https://cdn.example.com/results/2.png"])

    assert details.status == "completed"
    done = generation(app, gid)
    assert done.result_images == [RESULT, "https://cdn.example.com/results/2.png"]
    assert done.completed_at == clock.now
    assert done.lease_expires_at is None
    assert tokens(app, "alice") == (8, 0, 8)
    assert event_names(app, account(app, "alice").id)[-1] == "TokensCaptured"


def test_failure_records_the_reason_and_releases_the_tokens(app: Atelier) -> None:
    gid = submit(app, "alice", quality="ultra")
    app.claim("worker-1")

    details = app.fail(gid, "worker-1", "  model   refused\nthe prompt ")

    assert details.status == "failed"
    assert generation(app, gid).error == "  model   refused\nthe prompt "  # stored as sent
    assert tokens(app, "alice") == (10, 0, 10)
    assert event_names(app, account(app, "alice").id)[-1] == "TokensReleased"


def test_owner_cancels_a_pending_generation_releasing_tokens_and_queue_place(
    app: Atelier,
) -> None:
    gid = submit(app, "alice")
    assert queue_depth(app) == 1

    details = app.cancel("alice", gid)

    assert details.status == "cancelled"
    assert queue_depth(app) == 0
    assert tokens(app, "alice") == (10, 0, 10)
    assert app.claim("worker-1") is None


def test_only_the_owner_can_cancel_and_others_see_not_found(app: Atelier) -> None:
    gid = submit(app, "alice")
    before = stored(app)
    with pytest.raises(GenerationNotFound):
        app.cancel("bob", gid)
    with pytest.raises(GenerationNotFound):
        app.cancel("alice", uuid4())
    assert stored(app) == before
    assert generation(app, gid).status == "pending"


def test_worker_commands_on_an_unknown_generation_are_not_found(app: Atelier) -> None:
    with pytest.raises(GenerationNotFound):
        app.complete(uuid4(), "worker-1", [RESULT])
    with pytest.raises(GenerationNotFound):
        app.fail(uuid4(), "worker-1", "boom")
    account_aggregate = account(app, "alice").id
    with pytest.raises(GenerationNotFound):  # an id of another kind of aggregate
        app.fail(account_aggregate, "worker-1", "boom")


# ---- illegal transitions: each refused, and nothing stored --------------------------------


def to_pending(app: Atelier, gid: UUID) -> None:
    pass


def to_processing(app: Atelier, gid: UUID) -> None:
    claimed = app.claim("worker-1")
    assert claimed is not None and claimed.generation_id == gid


def to_completed(app: Atelier, gid: UUID) -> None:
    to_processing(app, gid)
    app.complete(gid, "worker-1", [RESULT])


def to_failed(app: Atelier, gid: UUID) -> None:
    to_processing(app, gid)
    app.fail(gid, "worker-1", "boom")


def to_cancelled(app: Atelier, gid: UUID) -> None:
    app.cancel("alice", gid)


def to_timed_out(app: Atelier, gid: UUID) -> None:
    to_processing(app, gid)
    app.clock.advance(seconds=LEASE)  # type: ignore[attr-defined]
    assert app.sweep().timed_out == [gid]


def to_expired(app: Atelier, gid: UUID) -> None:
    app.clock.advance(seconds=TTL)  # type: ignore[attr-defined]
    assert app.sweep().expired == [gid]


STATES: dict[str, Callable[[Atelier, UUID], None]] = {
    "pending": to_pending,
    "processing": to_processing,
    "completed": to_completed,
    "failed": to_failed,
    "cancelled": to_cancelled,
    "timed out": to_timed_out,
    "expired": to_expired,
}
COMMANDS: dict[str, Callable[[Atelier, UUID], object]] = {
    "complete": lambda app, gid: app.complete(gid, "worker-1", [RESULT]),
    "fail": lambda app, gid: app.fail(gid, "worker-1", "boom"),
    "heartbeat": lambda app, gid: app.heartbeat(gid, "worker-1"),
    "complete as another worker": lambda app, gid: app.complete(gid, "worker-2", [RESULT]),
    "fail as another worker": lambda app, gid: app.fail(gid, "worker-2", "boom"),
    "heartbeat as another worker": lambda app, gid: app.heartbeat(gid, "worker-2"),
    "cancel": lambda app, gid: app.cancel("alice", gid),
}
LEGAL = {
    ("pending", "cancel"),
    ("processing", "complete"),
    ("processing", "fail"),
    ("processing", "heartbeat"),
    ("processing", "cancel"),
}
ILLEGAL = [
    (state, command) for state in STATES for command in COMMANDS if (state, command) not in LEGAL
]


@pytest.mark.parametrize(("state", "command"), ILLEGAL)
def test_illegal_transitions_are_refused_and_change_nothing(
    app: Atelier, state: str, command: str
) -> None:
    gid = submit(app, "alice")
    STATES[state](app, gid)
    status_before = generation(app, gid).status
    tokens_before = tokens(app, "alice")
    events_before = stored(app)

    with pytest.raises(InvalidTransition):
        COMMANDS[command](app, gid)

    assert generation(app, gid).status == status_before
    assert tokens(app, "alice") == tokens_before
    assert stored(app) == events_before


@pytest.mark.parametrize(("state", "command"), sorted(LEGAL))
def test_legal_transitions_end_where_the_state_machine_says(
    app: Atelier, state: str, command: str
) -> None:
    gid = submit(app, "alice")
    STATES[state](app, gid)
    COMMANDS[command](app, gid)
    expected = {
        "cancel": "cancelled",
        "complete": "completed",
        "fail": "failed",
        "heartbeat": "processing",
    }[command]
    assert generation(app, gid).status == expected
    assert account(app, "alice").reserved == (1 if expected == "processing" else 0)


def test_result_images_must_be_1_to_4_https_urls_and_bad_ones_change_nothing(
    app: Atelier,
) -> None:
    gid = submit(app, "alice")
    app.claim("worker-1")
    before = stored(app)
    with pytest.raises(InvalidRequest) as refused:
        app.complete(
            gid, "worker-1", ["http://cdn.example.com/a.png", RESULT, RESULT, "https://u:p@x.io/a"]
        )
    assert [(p.field, p.message) for p in refused.value.problems] == [
        ("resultImages.0", "Result image URL must be an absolute https URL"),
        ("resultImages.2", "Result image repeats resultImages.1"),
        ("resultImages.3", "Result image URL must not contain user information"),
    ]
    with pytest.raises(InvalidRequest):
        app.complete(gid, "worker-1", [])
    with pytest.raises(InvalidRequest):
        app.complete(gid, "worker-1", [f"https://cdn.example.com/{n}.png" for n in range(5)])
    assert stored(app) == before
    assert generation(app, gid).status == "processing"


# ---- atomicity -------------------------------------------------------------------------


def test_an_end_state_is_never_stored_without_its_token_effect(app: Atelier) -> None:
    """The first save of a completion loses its race on the account (a grant lands between
    the load and the save): neither the completion nor the capture is stored by it, and the
    retry stores both."""
    gid = submit(app, "alice")
    app.claim("worker-1")
    real_load = app.load_account
    interfered: list[bool] = []
    observed: list[str] = []

    def stale_then_real(user_id: str):  # type: ignore[no-untyped-def]
        stale = real_load(user_id)
        if not interfered:
            interfered.append(True)
            newer = real_load(user_id)
            newer.grant(5, "lands between load and save", app.clock())
            app.save(newer)
        else:  # the retry: the first save must have stored nothing
            observed.append(generation(app, gid).status)
        return stale

    app.load_account = stale_then_real  # type: ignore[method-assign]
    try:
        app.complete(gid, "worker-1", [RESULT])
    finally:
        app.load_account = real_load  # type: ignore[method-assign]

    assert observed == ["processing"]
    assert generation(app, gid).status == "completed"
    assert event_names(app, gid).count("GenerationCompleted") == 1
    names = event_names(app, account(app, "alice").id)
    assert names.count("TokensCaptured") == 1
    assert tokens(app, "alice") == (14, 0, 14)


# ---- time limits -----------------------------------------------------------------------


def test_a_lease_that_runs_out_fails_the_generation_as_timed_out(
    app: Atelier, clock: Clock
) -> None:
    gid = submit(app, "alice", quality="high")
    app.claim("worker-1")

    clock.advance(seconds=LEASE - 1)
    assert app.sweep().timed_out == []
    assert generation(app, gid).status == "processing"

    clock.advance(seconds=1)
    report = app.sweep()

    assert report.timed_out == [gid]
    timed_out = generation(app, gid)
    assert (timed_out.status, timed_out.error) == ("failed", TIMED_OUT)
    assert tokens(app, "alice") == (10, 0, 10)
    assert app.sweep().timed_out == []  # nothing left to do; nothing done twice


def test_reports_after_the_lease_ran_out_are_refused_and_change_nothing(
    app: Atelier, clock: Clock
) -> None:
    """API.md: a worker whose lease ran out gets 409 and changes nothing; the sweeper decides."""
    gid = submit(app, "alice")
    app.claim("worker-1")
    clock.advance(seconds=LEASE + 5)
    before = stored(app)

    with pytest.raises(InvalidTransition, match="lease"):
        app.complete(gid, "worker-1", [RESULT])
    with pytest.raises(InvalidTransition, match="lease"):
        app.fail(gid, "worker-1", "too late as well")
    with pytest.raises(InvalidTransition, match="lease"):
        app.heartbeat(gid, "worker-1")

    assert stored(app) == before
    assert generation(app, gid).status == "processing"
    assert tokens(app, "alice") == (10, 1, 9)
    assert app.sweep().timed_out == [gid]


def test_a_generation_pending_longer_than_the_ttl_expires(app: Atelier, clock: Clock) -> None:
    old = submit(app, "alice")
    clock.advance(seconds=TTL - 10)
    young = submit(app, "bob")

    clock.advance(seconds=9)
    assert app.sweep().expired == []

    clock.advance(seconds=1)  # `old` has waited exactly the TTL
    report = app.sweep()

    assert report.expired == [old]
    assert generation(app, old).status == "expired"
    assert generation(app, young).status == "pending"
    assert tokens(app, "alice") == (10, 0, 10)
    assert queue_depth(app) == 1
    claimed = app.claim("worker-1")
    assert claimed is not None and claimed.generation_id == young


def test_a_claim_expires_an_over_age_generation_instead_of_handing_it_out(
    app: Atelier, clock: Clock
) -> None:
    old = submit(app, "alice")
    clock.advance(seconds=TTL - 1)
    young = submit(app, "bob")
    clock.advance(seconds=1)  # `old` has waited the TTL; no sweeper has run yet

    claimed = app.claim("worker-1")

    assert claimed is not None
    assert claimed.generation_id == young
    assert generation(app, old).status == "expired"
    assert event_names(app, old)[-1] == "GenerationExpired"
    assert tokens(app, "alice") == (10, 0, 10)
    assert queue_depth(app) == 0


def test_sweeps_from_several_applications_end_each_generation_once(
    make_settings: SettingsFactory, clock: Clock
) -> None:
    """Two processes' worth of applications sweep the same due generations at once."""
    settings = make_settings(
        lease_seconds=LEASE,
        lease_max_attempts=1,
        pending_ttl_seconds=TTL,
        rate_limit_enabled=False,
    )
    with (
        wired_application(settings, clock) as first,
        wired_application(settings, clock, create_tables=False) as second,
    ):
        first.open_account("alice", 20)
        pending = [submit(first, "alice") for _ in range(4)]
        leased = [submit(first, "alice") for _ in range(4)]
        clock.advance(seconds=1)
        for gid in pending:
            first.cancel("alice", gid)  # make room at the front for the leased ones
        for _ in leased:
            assert first.claim("worker-1") is not None
        expiring = [submit(first, "alice") for _ in range(4)]
        clock.advance(seconds=TTL + LEASE)

        reports: list[SweepReport] = []
        errors: list[BaseException] = []
        barrier = threading.Barrier(4)

        def sweep(app: Atelier) -> None:
            barrier.wait()
            try:
                reports.append(app.sweep())
            except BaseException as error:  # a lost race must never be an error
                errors.append(error)

        threads = [threading.Thread(target=sweep, args=(a,)) for a in (first, second) * 2]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()

        assert errors == []
        assert sorted(g for r in reports for g in r.timed_out) == sorted(leased)
        assert sorted(g for r in reports for g in r.expired) == sorted(expiring)
        for gid in leased:
            assert event_names(first, gid).count("GenerationFailed") == 1
        for gid in expiring:
            assert event_names(first, gid).count("GenerationExpired") == 1
        assert tokens(first, "alice") == (20, 0, 20)
        assert queue_depth(first) == 0


def test_token_totals_after_mixed_lifecycles(app: Atelier, clock: Clock) -> None:
    """Captured on completion, released on every other end: only completions cost tokens,
    and what is still pending stays reserved."""
    costs = {"standard": 1, "high": 2, "ultra": 2}
    plan = [
        ("alice", "standard", "complete"),
        ("alice", "high", "fail"),
        ("alice", "ultra", "cancel"),
        ("bob", "ultra", "complete"),
        ("bob", "high", "time out"),
        ("alice", "high", "complete"),
        ("bob", "standard", "expire"),
    ]
    ids = [submit(app, user, quality=quality) for user, quality, _ in plan]
    fates = {gid: fate for (_, _, fate), gid in zip(plan, ids, strict=True)}
    for (user, _, fate), gid in zip(plan, ids, strict=True):
        if fate == "cancel":
            app.cancel(user, gid)
    for gid, fate in fates.items():
        if fate in {"complete", "fail", "time out"}:
            claimed = app.claim("worker-1")  # FIFO: exactly this one
            assert claimed is not None and claimed.generation_id == gid
    for gid, fate in fates.items():
        if fate == "complete":
            app.complete(gid, "worker-1", [RESULT])
        elif fate == "fail":
            app.fail(gid, "worker-1", "boom")
    clock.advance(seconds=TTL)
    still_pending = submit(app, "alice", quality="high")

    report = app.sweep()

    assert report.timed_out == [g for g, f in fates.items() if f == "time out"]
    assert report.expired == [g for g, f in fates.items() if f == "expire"]
    assert generation(app, still_pending).status == "pending"
    spent = {"alice": 0, "bob": 0}
    for user, quality, fate in plan:
        if fate == "complete":
            spent[user] += costs[quality]
    assert spent == {"alice": 3, "bob": 2}
    assert tokens(app, "alice") == (10 - 3, 2, 10 - 3 - 2)
    assert tokens(app, "bob") == (10 - 2, 0, 10 - 2)
    assert queue_depth(app) == 1


# ---- leases: heartbeats, requeues, a processing cancel -------------------------------------


def test_a_heartbeat_extends_the_lease_from_now_for_its_holder_alone(
    app: Atelier, clock: Clock
) -> None:
    gid = submit(app, "alice")
    app.claim("worker-1")
    clock.advance(seconds=LEASE - 1)

    beat = app.heartbeat(gid, "worker-1")

    assert (beat.cancelled, beat.lease_expires_at) == (False, clock.now + LEASE_DELTA)
    assert generation(app, gid).lease_expires_at == clock.now + LEASE_DELTA
    clock.advance(seconds=LEASE - 1)
    assert app.sweep().timed_out == []  # the old lease would have run out by now
    app.complete(gid, "worker-1", [RESULT])
    assert event_names(app, gid)[-3:] == [
        "LeaseExtended",
        "ImageLinked",  # its result
        "GenerationCompleted",
    ]


def test_a_cancel_while_processing_is_told_at_the_next_heartbeat_and_refuses_the_result(
    app: Atelier,
) -> None:
    gid = submit(app, "alice")
    app.claim("worker-1")

    details = app.cancel("alice", gid)

    assert details.status == "cancelled"
    assert tokens(app, "alice") == (10, 0, 10)
    assert queue_depth(app) == 0
    assert event_names(app, gid)[-1] == "ProcessingCancelled"
    before = stored(app)
    beat = app.heartbeat(gid, "worker-1")
    assert (beat.cancelled, beat.lease_expires_at) == (True, None)
    with pytest.raises(InvalidTransition):
        app.heartbeat(gid, "worker-2")
    with pytest.raises(InvalidTransition):
        app.complete(gid, "worker-1", [RESULT])
    with pytest.raises(InvalidTransition):
        app.fail(gid, "worker-1", "boom")
    assert stored(app) == before


@pytest.fixture
def requeuing(make_settings: SettingsFactory, clock: Clock) -> Iterator[Atelier]:
    settings = make_settings(
        lease_seconds=LEASE, lease_max_attempts=2, pending_ttl_seconds=TTL, queue_max_size=2
    )
    with wired_application(settings, clock) as atelier:
        atelier.open_account("alice", 10)
        yield atelier


def test_a_lapsed_lease_requeues_at_the_head_until_the_last_attempt_times_out(
    requeuing: Atelier, clock: Clock
) -> None:
    app = requeuing
    first = submit(app, "alice")
    clock.advance(seconds=1)
    claimed = app.claim("worker-1")
    assert claimed is not None and (claimed.generation_id, claimed.attempt) == (first, 1)
    second = submit(app, "alice")
    third = submit(app, "alice")  # the queue is full: capacity 2
    clock.advance(seconds=LEASE)

    report = app.sweep()

    assert (report.requeued, report.timed_out) == ([first], [])
    again = generation(app, first)
    assert (again.status, again.worker_id, again.lease_expires_at) == ("pending", None, None)
    assert tokens(app, "alice") == (10, 3, 7)  # still reserved
    assert queue_depth(app) == 3  # over capacity: an accepted generation is never lost
    with pytest.raises(QueueFull):
        submit(app, "alice")
    reclaimed = app.claim("worker-2")  # first in line again, ahead of younger ones
    assert reclaimed is not None and (reclaimed.generation_id, reclaimed.attempt) == (first, 2)
    with pytest.raises(InvalidTransition):
        app.complete(first, "worker-1", [RESULT])  # the first lease's holder is fenced off
    clock.advance(seconds=LEASE)

    report = app.sweep()

    assert (report.requeued, report.timed_out) == ([], [first])
    ended = generation(app, first)
    assert (ended.status, ended.error) == ("failed", TIMED_OUT)
    assert tokens(app, "alice") == (10, 2, 8)
    assert [app.claim("worker-1"), app.claim("worker-1")] != [None, None]
    assert {generation(app, g).status for g in (second, third)} == {"processing"}
    names = event_names(app, first)
    assert names.count("GenerationStarted") == 2
    assert names.count("GenerationRequeued") == 1
