"""`atelier audit` reads the read models in a child process while it replays the log: the child
catches views up; a child that fails, or cannot start, leaves the checks to read in the audit's
own process; an audit that ends early stops it; and a view that cannot apply the log is
reported, not compared."""

from __future__ import annotations

import logging
import multiprocessing
import os
import time
from collections.abc import Iterator
from contextlib import contextmanager
from functools import partial
from pathlib import Path
from typing import Any

import pytest
from eventsourcing.utils import get_topic

from application import events
from application.audit import violations as rule
from application.audit.report import AuditReport
from application.service import Atelier
from infrastructure.audit.consistent_read import ViewReader
from infrastructure.audit.projections import CHECKS, view_checks, view_checks_in_child
from infrastructure.audit.snapshots import Snapshot, ViewSnapshots
from infrastructure.bootstrap import build_application
from infrastructure.settings import Settings
from tests.audit_support import Story, refuse_to_start_processes
from tests.conftest import SettingsFactory
from tests.lifecycle_support import submit


@contextmanager
def quiet_application(settings: Settings) -> Iterator[Atelier]:
    """The application without background services: the read models stay where they are."""
    atelier = build_application(settings)
    try:
        yield atelier
    finally:
        atelier.close()


def broken_reader(reader: ViewReader) -> Any:
    """A view reader that fails in the child process."""
    raise RuntimeError("the child could not read this view")


def marked_reader(started: Path, seconds: float, reader: ViewReader) -> int:
    """A view reader that leaves a mark as it starts, takes `seconds`, and answers its pid."""
    started.touch()
    time.sleep(seconds)
    return os.getpid()


def vanishing_reader(started: Path, reader: ViewReader) -> Any:
    """A view reader whose process dies as it reads (killed, out of memory)."""
    started.touch()
    os._exit(1)


def one_submission(atelier: Atelier) -> int:
    """Alice opens an account and submits once; the log's head after that."""
    atelier.open_account("alice", 10)
    submit(atelier, "alice")
    return atelier.recorder.max_notification_id() or 0


def assert_every_view_compared(report: AuditReport, head: int) -> None:
    """A clean history, every one of the five views compared at the head of the log."""
    assert report.clean, [str(v) for v in report.violations.kept]
    assert [c.position for c in report.projections] == [head] * 5


def wait_for(path: Path) -> None:
    deadline = time.monotonic() + 30
    while not path.exists():
        assert time.monotonic() < deadline, f"the child never started reading ({path.name})"
        time.sleep(0.01)


def test_the_child_catches_views_up_before_reading_them(make_settings: SettingsFactory) -> None:
    settings = make_settings()
    with quiet_application(settings) as atelier:
        atelier.open_account("alice", 10)
        for _ in range(3):
            submit(atelier, "alice")
        head = atelier.recorder.max_notification_id() or 0
        readers = {name: check.read for name, check in CHECKS.items()}
        # Not shared: the child reads every view, so it is the child that catches them up.
        with ViewSnapshots(settings, readers, until=head, share=False) as snapshots:
            checks = view_checks(settings, atelier, snapshots)
            assert {check.view.position() for check in checks} == {0}  # no runner has run
            report = atelier.audit(observers=checks)
        assert [check.view.position() for check in checks] == [head] * len(checks)
    assert report.clean, [str(v) for v in report.violations.kept]
    assert [c.position for c in report.projections] == [head] * len(checks)


def test_a_failing_child_leaves_each_check_to_read_its_view_here(
    make_settings: SettingsFactory, caplog: pytest.LogCaptureFixture
) -> None:
    settings = make_settings()
    with quiet_application(settings) as atelier:
        head = one_submission(atelier)
        with (
            ViewSnapshots(
                settings, {"pending_queue": broken_reader}, until=head, share=False
            ) as snapshots,
            caplog.at_level(logging.WARNING),
        ):
            report = atelier.audit(observers=view_checks(settings, atelier, snapshots))
    assert_every_view_compared(report, head)
    assert "reading them in this one" in caplog.text


def test_a_view_that_cannot_apply_the_log_is_reported_unverified(
    make_settings: SettingsFactory,
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
            get_topic(events.GENERATION_COMPLETED),
            b'{"not": "a completion"}',
        )
        story.write_to(atelier)
        with view_checks_in_child(settings, atelier) as checks:
            report = atelier.audit(observers=checks)
    unverified = [v for v in report.violations.kept if v.rule == rule.PROJECTION_UNVERIFIED]
    assert unverified, [str(v) for v in report.violations.kept]
    assert all("cannot apply the log" in v.message for v in unverified)
    assert rule.UNREADABLE_EVENT in report.violations.counts
    compared = {c.name: c for c in report.projections}
    assert all(compared[v.subject.removeprefix("read model ")].position is None for v in unverified)


def test_a_process_that_cannot_start_leaves_the_checks_to_read_here(
    make_settings: SettingsFactory,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    refuse_to_start_processes(monkeypatch)
    settings = make_settings()
    with quiet_application(settings) as atelier:
        head = one_submission(atelier)
        with caplog.at_level(logging.WARNING), view_checks_in_child(settings, atelier) as checks:
            report = atelier.audit(observers=checks)
    assert_every_view_compared(report, head)
    assert "cannot start a process" in caplog.text


def test_an_audit_that_ends_early_stops_the_child(make_settings: SettingsFactory) -> None:
    settings = make_settings()
    children: list[str] = []

    def audit_interrupted(atelier: Atelier) -> None:
        with view_checks_in_child(settings, atelier) as checks:
            assert checks
            children.extend(p.name for p in multiprocessing.active_children())
            raise KeyboardInterrupt  # the operator pressed Ctrl-C during the replay

    with quiet_application(settings) as atelier:
        atelier.open_account("alice", 10)
        with pytest.raises(KeyboardInterrupt):
            audit_interrupted(atelier)
    assert children == ["atelier-audit-read-models"]
    assert multiprocessing.active_children() == []


def test_the_audit_reads_the_views_the_child_has_not_claimed(
    make_settings: SettingsFactory, tmp_path: Path
) -> None:
    """The audit compares in the readers' order, the child reads from the other end: a view
    the child has not started when the audit comes to it is read by the audit, and never by
    the child; one the child has started is waited for."""
    settings = make_settings()
    with quiet_application(settings) as atelier:
        head = one_submission(atelier)
        first, last = tmp_path / "first-read", tmp_path / "last-read"
        readers = {
            "pending_queue": partial(marked_reader, first, 0.0),
            "rate_limits": partial(marked_reader, tmp_path / "middle-read", 0.0),
            "dashboard_totals": partial(marked_reader, last, 1.0),
        }
        with ViewSnapshots(settings, readers, until=head) as snapshots:
            wait_for(last)  # the child has claimed the last view and is reading it
            assert snapshots.take("pending_queue") is None  # the audit reads it
            assert snapshots.take("rate_limits") is None
            outcome = snapshots.take("dashboard_totals")  # the child's: waited for
        assert isinstance(outcome, Snapshot)
        assert outcome.position == head
        assert outcome.held not in (None, os.getpid())  # read by the child
        assert not first.exists()
        assert not (tmp_path / "middle-read").exists()
        assert multiprocessing.active_children() == []


def test_a_view_claimed_by_a_child_that_dies_is_read_here(
    make_settings: SettingsFactory, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    settings = make_settings()
    with quiet_application(settings) as atelier:
        head = one_submission(atelier)
        started = tmp_path / "started"
        readers = {"pending_queue": partial(vanishing_reader, started)}
        with ViewSnapshots(settings, readers, until=head) as snapshots:
            wait_for(started)  # claimed by the child, which then dies
            with caplog.at_level(logging.WARNING):
                report = atelier.audit(observers=view_checks(settings, atelier, snapshots))
    assert_every_view_compared(report, head)
    assert "ended without a word" in caplog.text


def test_without_shared_memory_the_child_reads_every_view(
    make_settings: SettingsFactory,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Where the platform cannot share a lock between processes, nothing is claimed: the child
    reads every view and the audit waits for each, as before views were shared out."""

    def no_semaphores(*args: object, **kwargs: object) -> None:
        raise ImportError("This platform lacks a functioning sem_open implementation")

    monkeypatch.setattr(multiprocessing.get_context("spawn"), "Array", no_semaphores)
    settings = make_settings()
    with quiet_application(settings) as atelier:
        head = one_submission(atelier)
        readers = {name: check.read for name, check in CHECKS.items()}
        with (
            caplog.at_level(logging.WARNING),
            ViewSnapshots(settings, readers, until=head) as snapshots,
        ):
            outcomes = [snapshots.take(name) for name in readers]
    assert all(isinstance(o, Snapshot) and o.position == head for o in outcomes), outcomes
    assert "no shared memory" in caplog.text
