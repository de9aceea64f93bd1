"""`atelier audit` reads the read models in a child process while it replays the log: the child
catches views up; a child that fails, or cannot start, leaves the checks to read in the audit's
own process; an audit that ends early stops it; and a view that cannot apply the log is
reported, not compared."""

from __future__ import annotations

import logging
import multiprocessing
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from eventsourcing.utils import get_topic

from application import events
from application.audit import violations as rule
from application.service import Atelier
from infrastructure.audit.consistent_read import ViewReader
from infrastructure.audit.projections import view_checks, view_checks_in_child
from infrastructure.audit.snapshots import ViewSnapshots
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


def test_the_child_catches_views_up_before_reading_them(make_settings: SettingsFactory) -> None:
    settings = make_settings()
    with quiet_application(settings) as atelier:
        atelier.open_account("alice", 10)
        for _ in range(3):
            submit(atelier, "alice")
        with view_checks_in_child(settings, atelier) as checks:
            assert {check.view.position() for check in checks} == {0}  # no runner has run
            report = atelier.audit(observers=checks)
        head = atelier.recorder.max_notification_id()
        assert [check.view.position() for check in checks] == [head] * len(checks)
    assert report.clean, [str(v) for v in report.violations.kept]
    assert [c.position for c in report.projections] == [head] * len(checks)


def test_a_failing_child_leaves_each_check_to_read_its_view_here(
    make_settings: SettingsFactory, caplog: pytest.LogCaptureFixture
) -> None:
    settings = make_settings()
    with quiet_application(settings) as atelier:
        atelier.open_account("alice", 10)
        submit(atelier, "alice")
        head = atelier.recorder.max_notification_id() or 0
        with (
            ViewSnapshots(settings, {"pending_queue": broken_reader}, until=head) as snapshots,
            caplog.at_level(logging.WARNING),
        ):
            report = atelier.audit(observers=view_checks(settings, atelier, snapshots))
    assert report.clean, [str(v) for v in report.violations.kept]
    assert [c.position for c in report.projections] == [head] * 5
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
        atelier.open_account("alice", 10)
        submit(atelier, "alice")
        with caplog.at_level(logging.WARNING), view_checks_in_child(settings, atelier) as checks:
            report = atelier.audit(observers=checks)
        head = atelier.recorder.max_notification_id()
    assert report.clean, [str(v) for v in report.violations.kept]
    assert [c.position for c in report.projections] == [head] * 5
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
