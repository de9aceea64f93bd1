"""`atelier audit` on real stores (SQLite and PostgreSQL): a clean mixed history made by the
application audits clean with every read model matching; violations written straight into the
store, bypassing the application, are each named with their log positions; a read model that
differs from the log is named; the command exits non-zero on any violation."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path
from uuid import uuid4

import pytest
from eventsourcing.utils import get_topic

from application.audit import violations as rule
from application.audit.registry import VIEWS
from application.audit.report import AuditReport
from application.audit.session import AuditSession
from application.service import Atelier
from cli import main
from domain.accounts import TokenAccount
from domain.generations import Generation
from infrastructure.audit.checks import CHECKS
from infrastructure.audit.log_reader import LogInChild
from infrastructure.audit.parallel import audit_in_parallel, view_checks
from infrastructure.bootstrap import build_application, build_read_models
from infrastructure.projections.catch_up import catch_up
from infrastructure.settings import Settings
from tests.audit_support import Story, found, sketched, wait_until_ready
from tests.conftest import SettingsFactory
from tests.support.clock import Clock
from tests.support.lifecycle import submit, wired_application
from tests.support.servers import atelier_command
from tests.support.stores import settings_env

# How `audited` runs: all here; as `atelier audit` runs it (the log read by a child).
MODES = ["in-process", "child-process"]


def audited(settings: Settings, atelier: Atelier, mode: str = "in-process") -> AuditReport:
    """The audit with every invariant and every read model compared, run as `mode` says."""
    if mode == "in-process":
        return atelier.audit(observers=view_checks(settings, atelier))
    return audit_in_parallel(settings, atelier)


def rules(report: AuditReport) -> set[str]:
    return set(report.violations.counts)


@contextmanager
def quiet_application(settings: Settings) -> Iterator[Atelier]:
    """The server's application without its background services: no runner moves the read
    models, so each test decides where they stand."""
    atelier = build_application(settings)
    atelier.clock = Clock()
    try:
        yield atelier
    finally:
        atelier.close()


def make_mixed_history(atelier: Atelier, clock: Clock) -> None:
    """Every use case that writes: accounts, grants, submissions and every end state."""
    atelier.open_account("alice", 20)
    atelier.open_account("bob", 5)
    atelier.grant_tokens("alice", 5, "promo", idempotency_key="grant-1")
    atelier.grant_tokens("alice", 5, "promo", idempotency_key="grant-1")  # replayed: no event
    done = submit(atelier, "alice", quality="high")
    failed = submit(atelier, "bob")
    cancelled = submit(atelier, "alice")
    expiring = submit(atelier, "bob")
    assert atelier.claim("worker-1") is not None
    assert atelier.claim("worker-1") is not None
    atelier.complete(done, "worker-1", ["https://cdn.example/done.png"])
    atelier.fail(failed, "worker-1", "model error")
    atelier.cancel("alice", cancelled)
    clock.advance(hours=2)
    report = atelier.sweep()
    assert report.expired == [expiring]
    submit(atelier, "alice", quality="ultra")  # still pending
    atelier.disable_account("bob", "chargeback")
    atelier.enable_account("bob")


@pytest.mark.parametrize("mode", MODES)
def test_a_clean_mixed_history_audits_clean_and_every_read_model_matches(
    make_settings: SettingsFactory, mode: str
) -> None:
    settings = make_settings()
    clock = Clock()
    with wired_application(settings, clock) as atelier:
        make_mixed_history(atelier, clock)
        report = audited(settings, atelier, mode)
    assert report.clean, [str(v) for v in report.violations.kept]
    assert report.accounts == 2
    assert report.generation_statuses == {
        "pending": 1,
        "processing": 0,
        "completed": 1,
        "failed": 1,
        "cancelled": 1,
        "expired": 1,
    }
    assert report.tokens.as_dict() == {"granted": 30, "reserved": 2, "captured": 2, "released": 3}
    compared = {c.name: c for c in report.projections}
    assert set(compared) == {
        "pending_queue",
        "rate_limits",
        "user_generations",
        "images",
        "dashboard_totals",
        "activity",
        "webhooks",
    }
    assert all(c.position == report.last_position and not c.differences for c in compared.values())


@pytest.mark.parametrize("mode", MODES)
def test_events_of_an_aggregate_the_audit_does_not_answer_for_leave_a_clean_audit_clean(
    make_settings: SettingsFactory, mode: str
) -> None:
    settings = make_settings()
    clock = Clock()
    with wired_application(settings, clock) as atelier:
        make_mixed_history(atelier, clock)
        atelier.save(sketched())
        report = audited(settings, atelier, mode)
    assert report.clean, [str(v) for v in report.violations.kept]
    assert report.events_by_type["Drawn"] == 1


@pytest.mark.parametrize("mode", MODES)
def test_heartbeats_requeues_past_capacity_and_processing_cancels_audit_clean(
    make_settings: SettingsFactory, mode: str
) -> None:
    """A requeue may take the queue past QUEUE_MAX_SIZE (docs/lifecycle.md): not a violation,
    and every read model follows the lease events."""
    settings = make_settings(queue_max_size=1, lease_seconds=600, lease_max_attempts=2)
    clock = Clock()
    with wired_application(settings, clock) as atelier:
        atelier.open_account("alice", 20)
        requeued = submit(atelier, "alice")
        assert atelier.claim("worker-1") is not None
        atelier.heartbeat(requeued, "worker-1")
        submit(atelier, "alice")
        clock.advance(seconds=600)
        assert atelier.sweep().requeued == [requeued]  # two pending, capacity 1
        assert atelier.claim("worker-2") is not None
        atelier.cancel("alice", requeued)  # while processing
        report = audited(settings, atelier, mode)
    assert report.clean, [str(v) for v in report.violations.kept]
    assert report.generation_statuses["pending"] == 1
    assert report.generation_statuses["cancelled"] == 1
    assert report.tokens.as_dict()["reserved"] == 1


def test_every_read_model_the_audit_answers_for_has_its_check() -> None:
    assert list(CHECKS) == list(VIEWS)


def test_violations_written_straight_into_the_store_are_each_named(
    make_settings: SettingsFactory,
) -> None:
    settings = make_settings(max_requests_per_hour=3, queue_max_size=2)
    with quiet_application(settings) as atelier:
        story = Story(atelier.mapper)
        story.open("alice", 3)
        story.open("bob", 10)
        first = story.submit("alice")
        story.claim(first)
        _, completed, captured = story.complete(first)  # its result linked first
        captured_again = story.forge(
            TokenAccount.TokensCaptured,
            story.accounts["alice"],
            generation_id=str(first.id),
            amount=1,
            at=story.clock,
        )
        restarted = story.forge(
            Generation.GenerationStarted,
            first,
            worker_id="w9",
            lease_expires_at=story.clock,
            at=story.clock,
        )
        bobs = [story.submit("bob", minutes_later=5) for _ in range(4)]  # four in an hour
        overdraft = story.forge_reservation("alice", uuid4(), amount=5)
        _, unreserved = story.forge_request("bob")
        ids = story.write_to(atelier)
        report = atelier.audit()

    def at(*positions: int) -> tuple[int, ...]:
        return tuple(ids[p - 1] for p in positions)

    assert found(report, rule.RESOLVED_TWICE) == [at(captured, captured_again)]
    assert found(report, rule.ILLEGAL_TRANSITION) == [at(completed, restarted)]
    assert found(report, rule.NEGATIVE_AVAILABLE) == [at(overdraft)]
    assert found(report, rule.RESERVATION_MISSING) == [at(unreserved)]
    assert found(report, rule.RESERVATION_ORPHANED) == [at(overdraft)]
    assert found(report, rule.RATE_LIMIT) == [at(*(story.reserved_at[g.id] for g in bobs))]
    assert found(report, rule.QUEUE_CAPACITY) == [at(story.requested_at[bobs[2].id])]
    assert rules(report) == {
        rule.RESOLVED_TWICE,
        rule.ILLEGAL_TRANSITION,
        rule.NEGATIVE_AVAILABLE,
        rule.RESERVATION_MISSING,
        rule.RESERVATION_ORPHANED,
        rule.RATE_LIMIT,
        rule.QUEUE_CAPACITY,
        rule.QUEUE_MISMATCH,  # the hand-made request was never queued
    }


@pytest.mark.parametrize("mode", MODES)
def test_a_read_model_that_differs_from_the_log_is_named(
    make_settings: SettingsFactory, mode: str
) -> None:
    settings = make_settings()
    clock = Clock()
    with quiet_application(settings) as atelier:
        atelier.clock = clock
        atelier.open_account("alice", 10)
        waiting = submit(atelier, "alice")
        models = build_read_models(settings, atelier)
        assert models is not None
        for view in models.views.values():
            catch_up(atelier, view)
        tampered = models.view("user_generations")
        with tampered.datastore.transaction(commit=True) as cursor:  # type: ignore[attr-defined]
            cursor.execute(
                tampered.sql("UPDATE {user_generations} SET status = ? WHERE generation_id = ?"),
                ("completed", str(waiting)),
            )
        totals = models.view("dashboard_totals")
        with totals.datastore.transaction(commit=True) as cursor:  # type: ignore[attr-defined]
            cursor.execute(
                totals.sql("UPDATE {dashboard_totals} SET value = value + 7 WHERE metric = ?"),
                ("tokens.granted",),
            )
        report = audited(settings, atelier, mode)
    mismatches = [v for v in report.violations.kept if v.rule == rule.PROJECTION_MISMATCH]
    assert [v.subject for v in mismatches] == [
        "read model user_generations",
        "read model dashboard_totals",
    ]
    assert "status 'completed'; replay: 'pending'" in mismatches[0].message
    assert "tokens.granted is 17; the replay makes it 10" in mismatches[1].message
    assert rules(report) == {rule.PROJECTION_MISMATCH}


@pytest.mark.parametrize("mode", MODES)
def test_a_view_that_cannot_apply_the_log_is_reported_unverified(
    make_settings: SettingsFactory, mode: str
) -> None:
    settings = make_settings()
    with quiet_application(settings) as atelier:
        story = Story(atelier.mapper)
        story.open("alice", 10)
        generation = story.submit("alice")
        story.claim(generation)
        story.append_raw(
            generation.id,
            generation.version + 1,
            get_topic(Generation.GenerationCompleted),
            b'{"not": "a completion"}',
        )
        story.write_to(atelier)
        report = audited(settings, atelier, mode)
    unverified = [v for v in report.violations.kept if v.rule == rule.PROJECTION_UNVERIFIED]
    assert unverified, [str(v) for v in report.violations.kept]
    assert all("cannot apply the log" in v.message for v in unverified)
    assert rule.UNREADABLE_EVENT in report.violations.counts
    compared = {c.name: c for c in report.projections}
    assert all(compared[v.subject.removeprefix("read model ")].position is None for v in unverified)


@pytest.mark.parametrize("child", [False, True], ids=["log-read-here", "log-read-by-a-child"])
def test_a_read_model_behind_the_log_is_caught_up_and_one_ahead_is_met_by_the_replay(
    make_settings: SettingsFactory, child: bool
) -> None:
    settings = make_settings()
    with quiet_application(settings) as atelier, ExitStack() as stack:
        atelier.open_account("alice", 10)
        for _ in range(3):
            submit(atelier, "alice")
        checks = view_checks(settings, atelier)
        read_log = None
        if child:  # the replay reads on three times, each range from the child
            read_log = stack.enter_context(LogInChild(settings, atelier.recorder, batch_size=2))
            wait_until_ready(read_log)
        session = AuditSession(atelier, checks, None, batch_size=2, read_log=read_log)
        middle = session.head() - 4
        session.replay_to(middle)
        submit(atelier, "alice")  # arrives while the audit runs
        ahead = checks[0]
        catch_up(atelier, ahead.view)  # this view is now past the replay; the others are at 0
        others = [0] * (len(checks) - 1)
        assert [check.view.position() for check in checks] == [session.head(), *others]
        for check in checks:
            check.compare(session)
        report = session.replay.finish()
        head = atelier.recorder.max_notification_id()
    assert report.clean, [str(v) for v in report.violations.kept]
    assert session.position == head
    assert [c.position for c in report.projections] == [head] * len(checks)


@pytest.mark.parametrize("first", ["pending_queue", "user_generations"])
def test_the_checks_sharing_generation_rows_may_compare_at_different_positions(
    make_settings: SettingsFactory, first: str
) -> None:
    """The pending-queue and user-generations checks follow one set of rows: whichever compares
    first, the rows follow on for the other, through requests and starts that come after."""
    settings = make_settings()
    second = {"pending_queue": "user_generations", "user_generations": "pending_queue"}[first]
    with quiet_application(settings) as atelier:
        atelier.open_account("alice", 10)
        submit(atelier, "alice")
        checks = {check.name: check for check in view_checks(settings, atelier)}
        session = AuditSession(atelier, list(checks.values()), None, 2)
        session.replay_to(session.head())
        checks[first].compare(session)  # its view caught up to here, compared, no longer followed
        compared_first = session.position

        models = build_read_models(settings, atelier)
        assert models is not None
        catch_up(atelier, models.view("pending_queue"))  # workers claim from this view
        assert atelier.claim("worker-1") is not None  # the first generation starts
        submit(atelier, "alice")  # and a second is requested
        head = atelier.recorder.max_notification_id()
        catch_up(atelier, checks[second].view)  # ahead of the replay, which reads on to it
        for name, check in checks.items():
            if name != first:
                check.compare(session)
        report = session.replay.finish()
    assert report.clean, [str(v) for v in report.violations.kept]
    positions = {c.name: c.position for c in report.projections}
    assert compared_first < head
    assert positions[first] == compared_first and positions[second] == head


def test_atelier_audit_exits_one_and_names_the_violation(
    make_settings: SettingsFactory,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    settings = make_settings()
    for name, value in settings_env(settings).items():
        monkeypatch.setenv(name, value)
    with quiet_application(settings) as atelier:
        atelier.open_account("alice", 10)
        submit(atelier, "alice")
    assert main(["audit"]) == 0
    assert "No violations" in capsys.readouterr().out

    with quiet_application(settings) as atelier:
        story = Story(atelier.mapper)
        story.open("mallory", 0)
        story.forge_reservation("mallory", uuid4(), amount=3)
        story.open("carol", 2)
        story.queue = atelier.load_queue()  # the one the service's submission above opened
        story.submit("carol", request_id="req-1")
        story.submit("carol", request_id="req-1")  # one request, two generations
        story.write_to(atelier)
    assert main(["audit", "--json"]) == 1
    document = json.loads(capsys.readouterr().out)
    assert document["clean"] is False
    assert document["violationsByRule"] == {
        rule.NEGATIVE_AVAILABLE: 1,
        rule.RESERVATION_ORPHANED: 1,
        rule.REQUEST_RECORDED_TWICE: 1,
    }
    assert document["accounts"] == 3
    assert document["tokens"]["reserved"] == 6


def test_the_installed_atelier_command_audits_with_its_child_processes(
    make_settings: SettingsFactory,
) -> None:
    """As operators run it: the console script, whose children are spawned interpreters that
    must not run the command again when they import the main module."""
    settings = make_settings()
    clock = Clock()
    with wired_application(settings, clock) as atelier:
        make_mixed_history(atelier, clock)
        head = atelier.recorder.max_notification_id()
    command = Path(sys.executable).parent / "atelier"
    done = subprocess.run(
        [str(command), "audit", "--json"],
        env={**os.environ, **settings_env(settings)},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    document = json.loads(done.stdout)
    assert document["clean"] is True
    assert document["events"] == head
    assert "failed" not in done.stderr  # neither child gave up: no warning was logged


def test_a_reader_that_goes_away_early_gets_no_traceback(make_settings: SettingsFactory) -> None:
    """`atelier audit --json | head`: the command stops, quietly, with status 1."""
    settings = make_settings()
    with quiet_application(settings) as atelier:
        atelier.open_account("alice", 10)
        submit(atelier, "alice")
    command = subprocess.Popen(
        atelier_command("audit", "--json"),
        env={**os.environ, **settings_env(settings)},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert command.stdout is not None and command.stderr is not None
    command.stdout.close()  # the reader goes away before a line is written
    errors = command.stderr.read()
    assert command.wait(timeout=120) == 1
    assert "Traceback" not in errors and "BrokenPipe" not in errors, errors[-3000:]


def test_time_passing_alone_breaks_nothing(make_settings: SettingsFactory) -> None:
    """Expired acceptances leave the rolling hour by event time, never by the audit's clock."""
    settings = make_settings(max_requests_per_hour=2)
    clock = Clock()
    with wired_application(settings, clock) as atelier:
        atelier.open_account("alice", 10)
        for _ in range(2):
            submit(atelier, "alice")
        clock.advance(hours=1, seconds=1)
        for _ in range(2):
            submit(atelier, "alice")
        clock.advance(days=3)
        report = audited(settings, atelier)
    assert report.clean, [str(v) for v in report.violations.kept]
    assert report.generations == 4


def test_a_running_generations_lease_is_compared_in_the_pending_queue(
    make_settings: SettingsFactory,
) -> None:
    settings = make_settings()
    with quiet_application(settings) as atelier:
        atelier.open_account("alice", 10)
        submit(atelier, "alice")
        models = build_read_models(settings, atelier)
        assert models is not None
        view = models.view("pending_queue")
        catch_up(atelier, view)  # workers claim from this view
        running = atelier.claim("worker-1")
        assert running is not None
        catch_up(atelier, view)
        assert audited(settings, atelier).clean  # the lease as the events set it
        with view.datastore.transaction(commit=True) as cursor:  # type: ignore[attr-defined]
            cursor.execute(
                view.sql(
                    "UPDATE {pending_queue} SET lease_expires_at = lease_expires_at + 1 "
                    "WHERE generation_id = ?"
                ),
                (str(running.generation_id),),
            )
        report = audited(settings, atelier)
    (mismatch,) = report.violations.kept
    assert mismatch.subject == "read model pending_queue"
    assert "differs in lease_expires_at" in mismatch.message
    assert "status" not in mismatch.message  # processing in both


@pytest.mark.parametrize(
    ("view_name", "statement", "names"),
    [
        (
            "pending_queue",
            "DELETE FROM {pending_queue} WHERE generation_id = ?",
            "missing a generation the replay has waiting or running",
        ),
        (
            "rate_limits",
            "UPDATE {rate_limit_acceptances} SET accepted_at = accepted_at + 1 "
            "WHERE generation_id = ?",
            "1 acceptances of its last hour missing, 1 that should not be there",
        ),
        (
            "images",
            "UPDATE {files} SET url = 'https://res.cloudinary.com/demo/image/upload/x.jpg' "
            "WHERE generation_id = ?",
            "differ from its ImageLinked events",
        ),
    ],
)
def test_each_read_model_is_compared_with_the_replay(
    make_settings: SettingsFactory, view_name: str, statement: str, names: str
) -> None:
    settings = make_settings()
    with quiet_application(settings) as atelier:
        atelier.open_account("alice", 10)
        waiting = submit(atelier, "alice")
        models = build_read_models(settings, atelier)
        assert models is not None
        view = models.view(view_name)
        catch_up(atelier, view)
        with view.datastore.transaction(commit=True) as cursor:  # type: ignore[attr-defined]
            cursor.execute(view.sql(statement), (str(waiting),))
        report = audited(settings, atelier)
    (mismatch,) = report.violations.kept
    assert (mismatch.rule, mismatch.subject) == (
        rule.PROJECTION_MISMATCH,
        f"read model {view_name}",
    )
    assert names in mismatch.message
    differing = [c.name for c in report.projections if c.differences]
    assert differing == [view_name]
