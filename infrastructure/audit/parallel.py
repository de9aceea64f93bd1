"""The audit as `atelier audit` runs it: three processes on the one history."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager

import orjson

from application.audit.reading import JsonParser
from application.audit.registry import VIEWS
from application.audit.report import AuditReport
from application.service import Atelier
from infrastructure.audit.checks import CHECKS
from infrastructure.audit.checks.generation_rows import GenerationRows, GenerationRowsCheck
from infrastructure.audit.checks.view_check import ViewCheck
from infrastructure.audit.log_reader import LogInChild
from infrastructure.audit.snapshots import Outcome, ViewSnapshots, read_view
from infrastructure.bootstrap import build_read_models
from infrastructure.projections.read_models import ReadModels
from infrastructure.settings import Settings

parse_json: JsonParser = orjson.loads  # what it refuses goes through the application's mapper


def audit_in_parallel(
    settings: Settings, atelier: Atelier, progress: Callable[[int], None] | None = None
) -> AuditReport:
    """Every invariant and every read model, the log and the read models read by children."""
    with (
        LogInChild(settings, atelier.recorder) as read_log,
        view_checks_in_child(settings, atelier) as checks,
    ):
        return atelier.audit(
            observers=checks, progress=progress, parse_json=parse_json, read_log=read_log
        )


def view_checks(
    settings: Settings, atelier: Atelier, snapshots: ViewSnapshots | None = None
) -> list[ViewCheck]:
    """One check per read model in VIEWS (none on a memory store), fed by `snapshots` if given."""
    models = build_read_models(settings, atelier)
    return [] if models is None else _checks(atelier, models, snapshots)


@contextmanager
def view_checks_in_child(settings: Settings, atelier: Atelier) -> Iterator[list[ViewCheck]]:
    """The checks of `view_checks`, fed by a child reading their views as of the log's head now;
    the child is stopped, if still at work, when the block ends."""
    models = build_read_models(settings, atelier)
    if models is None:
        yield []
        return
    views = models.views
    readers = {name: CHECKS[name].read for name in views if name in VIEWS}
    head = atelier.recorder.max_notification_id() or 0

    def read_here(name: str) -> Outcome:
        return read_view(atelier, views[name], readers[name], head)

    with ViewSnapshots(settings, readers, until=head, read_here=read_here) as snapshots:
        yield _checks(atelier, models, snapshots)


def _checks(
    atelier: Atelier, models: ReadModels, snapshots: ViewSnapshots | None
) -> list[ViewCheck]:
    rows = GenerationRows()  # followed once for the two read models made of generations' rows
    checks: list[ViewCheck] = []
    for name, view in models.views.items():
        if name not in VIEWS:
            continue  # outside the audit (registry.py)
        check = CHECKS[name]
        if issubclass(check, GenerationRowsCheck):
            checks.append(check(atelier, view, snapshots, rows))
        else:
            checks.append(check(atelier, view, snapshots))
    return checks
