"""`atelier audit` reads the read models in a child process while it replays the log: the child
catches views up; the audit reads itself the views the child has not come to; a child that
fails, dies, cannot start or cannot be understood leaves the checks to read in the audit's own
process; an audit that ends early stops it; and a view that cannot apply the log is reported,
not compared."""

from __future__ import annotations

import logging
import multiprocessing
import os
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import partial
from pathlib import Path
from typing import Any

import pytest
from eventsourcing.utils import get_topic

from application.audit import violations as rule
from application.audit.report import AuditReport
from application.service import Atelier
from domain.generations import Generation
from infrastructure.audit import snapshots as snapshots_module
from infrastructure.audit.checks import CHECKS
from infrastructure.audit.children import STOP_SECONDS
from infrastructure.audit.consistent_read import ViewReader
from infrastructure.audit.parallel import view_checks, view_checks_in_child
from infrastructure.audit.snapshots import Outcome, Reader, Snapshot, ViewSnapshots, read_view
from infrastructure.bootstrap import build_application, build_read_models
from infrastructure.projections.catch_up import catch_up
from infrastructure.projections.view import ProjectionView
from infrastructure.settings import Settings
from tests.audit_support import Story, refuse_to_start_processes
from tests.conftest import SettingsFactory
from tests.support.lifecycle import submit


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


def large_reader(reader: ViewReader) -> bytes:
    """A view reader whose snapshot is larger than a pipe holds."""
    return b"x" * (4 * 1024 * 1024)


def failing_reader(started: Path, reader: ViewReader) -> Any:
    """A view reader that leaves a mark, then fails."""
    started.touch()
    raise RuntimeError("the child could not read this view")


def view_models(settings: Settings, atelier: Atelier) -> dict[str, ProjectionView]:
    models = build_read_models(settings, atelier)
    assert models is not None
    return models.views


def refuse_to_load() -> None:
    raise ValueError("this snapshot cannot be loaded here")


class Unreceivable:
    """Pickles in the child; unpickling it in the audit's process fails."""

    def __reduce__(self) -> tuple[Callable[[], None], tuple[()]]:
        return refuse_to_load, ()


def unreceivable_reader(reader: ViewReader) -> Unreceivable:
    return Unreceivable()


def slow_reader(read: Reader, started: Path, seconds: float, reader: ViewReader) -> Any:
    """A view's real reader, which leaves a mark as it starts and first takes `seconds`."""
    started.touch()
    time.sleep(seconds)
    return read(reader)


def marked_reader(started: Path, seconds: float, reader: ViewReader) -> int:
    """A view reader that leaves a mark as it starts, takes `seconds`, and answers its pid."""
    started.touch()
    time.sleep(seconds)
    return os.getpid()


def vanishing_reader(started: Path, reader: ViewReader) -> Any:
    """A view reader whose process dies as it reads (killed, out of memory)."""
    started.touch()
    os._exit(1)


def every_reader() -> dict[str, Reader]:
    """What each check reads of its view, by view."""
    return {name: check.read for name, check in CHECKS.items()}


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
        readers = every_reader()
        # Not shared: the child reads every view, so it is the child that catches them up.
        with ViewSnapshots(settings, readers, until=head, share=False) as snapshots:
            checks = view_checks(settings, atelier, snapshots)
            assert {check.view.position() for check in checks} == {0}  # no runner has run
            report = atelier.audit(observers=checks)
        assert [check.view.position() for check in checks] == [head] * len(checks)
    assert report.clean, [str(v) for v in report.violations.kept]
    assert [c.position for c in report.projections] == [head] * len(checks)


def test_a_failing_child_that_reads_every_view_leaves_each_check_to_read_here(
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


@pytest.mark.parametrize("child_reads_every_view", [False, True])
def test_a_view_that_cannot_apply_the_log_is_reported_unverified(
    make_settings: SettingsFactory, caplog: pytest.LogCaptureFixture, child_reads_every_view: bool
) -> None:
    """Whoever finds it (this process, or the child, which says why: its check then tries
    here, and reports it)."""
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
        if child_reads_every_view:
            head = atelier.recorder.max_notification_id() or 0
            readers = every_reader()
            with (
                caplog.at_level(logging.WARNING),
                ViewSnapshots(settings, readers, until=head, share=False) as snapshots,
            ):
                report = atelier.audit(observers=view_checks(settings, atelier, snapshots))
            assert "read ahead of its comparison: cannot apply the log" in caplog.text
        else:
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


def test_the_audit_reads_the_next_views_while_the_child_reads(
    make_settings: SettingsFactory, tmp_path: Path
) -> None:
    """The child reads in the audit's order; while the audit waits for the view the child is
    reading, it reads the next views nobody has claimed itself, in the same order."""
    settings = make_settings()
    with quiet_application(settings) as atelier:
        head = one_submission(atelier)
        reading = tmp_path / "child-reading"
        readers = {
            "pending_queue": partial(marked_reader, reading, 3.0),
            "rate_limits": partial(marked_reader, tmp_path / "rate-limits", 0.0),
            "dashboard_totals": partial(marked_reader, tmp_path / "dashboard", 0.0),
        }
        views = view_models(settings, atelier)
        here: list[str] = []

        def read_here(name: str) -> Outcome:
            here.append(name)
            return read_view(atelier, views[name], readers[name], head)

        with ViewSnapshots(settings, readers, until=head, read_here=read_here) as snapshots:
            wait_for(reading)  # the child has claimed the first view and is reading it
            outcomes = {name: snapshots.take(name) for name in readers}
    assert here == ["rate_limits", "dashboard_totals"]  # the next ones, while it waited
    assert all(isinstance(o, Snapshot) and o.position == head for o in outcomes.values())
    held = {name: o.held for name, o in outcomes.items() if isinstance(o, Snapshot)}
    assert held["pending_queue"] != os.getpid()  # the child's
    assert held["rate_limits"] == held["dashboard_totals"] == os.getpid()
    assert multiprocessing.active_children() == []


def test_a_view_nobody_has_claimed_is_left_to_its_check(
    make_settings: SettingsFactory, tmp_path: Path
) -> None:
    """Without a way to read ahead here, the audit claims the view it comes to and its check
    reads it (None); the child never reads it, and the audit waits for the child's."""
    settings = make_settings()
    with quiet_application(settings) as atelier:
        head = one_submission(atelier)
        reading, left = tmp_path / "child-reading", tmp_path / "dashboard"
        readers = {
            "pending_queue": partial(marked_reader, reading, 3.0),
            "dashboard_totals": partial(marked_reader, left, 0.0),
        }
        with ViewSnapshots(settings, readers, until=head) as snapshots:
            wait_for(reading)
            assert snapshots.take("dashboard_totals") is None
            first = snapshots.take("pending_queue")
    assert isinstance(first, Snapshot)
    assert first.held != os.getpid()
    assert not left.exists()


def test_a_large_snapshot_in_the_pipe_does_not_stop_the_child(
    make_settings: SettingsFactory, tmp_path: Path
) -> None:
    """The audit takes each snapshot off the pipe as it comes, though it compares them only
    once the replay ends: the child reads on meanwhile."""
    settings = make_settings()
    with quiet_application(settings) as atelier:
        head = one_submission(atelier)
        second = tmp_path / "second-read"
        readers: dict[str, Reader] = {
            "pending_queue": large_reader,
            "dashboard_totals": partial(marked_reader, second, 0.0),
        }
        with ViewSnapshots(settings, readers, until=head) as snapshots:
            wait_for(second)  # read while the first view's 4 MB are still in the pipe
            outcomes = [snapshots.take(name) for name in readers]
    assert [type(o) for o in outcomes] == [Snapshot, Snapshot]


@pytest.mark.parametrize(
    ("how", "warning"),
    [(failing_reader, "the child could not read this view"), (vanishing_reader, "without a word")],
    ids=["fails", "dies"],
)
def test_a_view_claimed_by_a_child_that_fails_or_dies_is_read_here(
    make_settings: SettingsFactory,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
    how: Callable[[Path, ViewReader], Any],
    warning: str,
) -> None:
    settings = make_settings()
    with quiet_application(settings) as atelier:
        head = one_submission(atelier)
        started = tmp_path / "started"
        with ViewSnapshots(settings, {"pending_queue": partial(how, started)}, head) as snapshots:
            wait_for(started)  # claimed by the child, which then fails or dies
            with caplog.at_level(logging.WARNING):
                report = atelier.audit(observers=view_checks(settings, atelier, snapshots))
    assert_every_view_compared(report, head)
    assert warning in caplog.text


def test_claims_that_cannot_be_made_stop_the_child_and_leave_the_views_here(
    make_settings: SettingsFactory,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
    tmp_path: Path,
) -> None:
    """As if the claims' lock had been left held by a killed process: the audit stops waiting
    for the child, stops it at once (it is still reading), and its checks read every view."""
    monkeypatch.setattr(snapshots_module, "claim", lambda *args: None)  # this process's only
    settings = make_settings()
    with quiet_application(settings) as atelier:
        head = one_submission(atelier)
        reading = tmp_path / "child-reading"
        readers = every_reader()
        readers["pending_queue"] = partial(slow_reader, readers["pending_queue"], reading, 30.0)
        with (
            caplog.at_level(logging.WARNING),
            ViewSnapshots(settings, readers, until=head) as snapshots,
        ):
            wait_for(reading)
            started = time.monotonic()
            report = atelier.audit(observers=view_checks(settings, atelier, snapshots))
            assert multiprocessing.active_children() == []  # stopped at the first claim
            assert time.monotonic() - started < STOP_SECONDS  # terminated, not waited for
    assert_every_view_compared(report, head)
    assert "claims' lock" in caplog.text


def test_a_view_read_ahead_by_the_audit_is_compared(
    make_settings: SettingsFactory, tmp_path: Path
) -> None:
    """The audit's own wiring (view_checks_in_child's `read_here`): while the child is slow on
    the first view, the audit reads the others ahead with the real readers, and a tampered one
    among them is named."""
    settings = make_settings()
    with quiet_application(settings) as atelier:
        head = one_submission(atelier)
        views = view_models(settings, atelier)
        for view in views.values():
            catch_up(atelier, view)
        tampered = views["dashboard_totals"]
        with tampered.datastore.transaction(commit=True) as cursor:  # type: ignore[attr-defined]
            cursor.execute(
                tampered.sql("UPDATE {dashboard_totals} SET value = value + 7 WHERE metric = ?"),
                ("tokens.granted",),
            )
        reading = tmp_path / "child-reading"
        readers = every_reader()
        readers["pending_queue"] = partial(slow_reader, readers["pending_queue"], reading, 3.0)
        here: list[str] = []

        def read_here(name: str) -> Outcome:
            here.append(name)
            return read_view(atelier, views[name], readers[name], head)

        with ViewSnapshots(settings, readers, until=head, read_here=read_here) as snapshots:
            wait_for(reading)
            report = atelier.audit(observers=view_checks(settings, atelier, snapshots))
    assert here == list(readers)[1:]  # all but the child's, read ahead while it was slow
    mismatches = [v for v in report.violations.kept if v.rule == rule.PROJECTION_MISMATCH]
    assert [v.subject for v in mismatches] == ["read model dashboard_totals"]
    assert [c.position for c in report.projections] == [head] * 5


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
        readers = every_reader()
        with (
            caplog.at_level(logging.WARNING),
            ViewSnapshots(settings, readers, until=head) as snapshots,
        ):
            outcomes = [snapshots.take(name) for name in readers]
    assert all(isinstance(o, Snapshot) and o.position == head for o in outcomes), outcomes
    assert "no shared memory" in caplog.text


def test_a_snapshot_that_cannot_be_received_leaves_the_views_here(
    make_settings: SettingsFactory, caplog: pytest.LogCaptureFixture
) -> None:
    """The thread taking snapshots off the pipe fails on one: the audit is told, stops the
    child, and reads every view itself (it must not wait for a thread that has gone)."""
    settings = make_settings()
    with quiet_application(settings) as atelier:
        head = one_submission(atelier)
        readers = {**every_reader(), "pending_queue": unreceivable_reader}
        with (
            caplog.at_level(logging.WARNING),
            ViewSnapshots(settings, readers, until=head, share=False) as snapshots,
        ):
            report = atelier.audit(observers=view_checks(settings, atelier, snapshots))
        assert multiprocessing.active_children() == []
    assert_every_view_compared(report, head)
    assert "cannot receive a snapshot" in caplog.text
