"""Which check compares which read model: every projection of the application gets one.

A projection without a check is reported (projection-unverified) rather than skipped, so adding
a read model without teaching the audit to compare it cannot go unnoticed.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from application.service import Atelier
from infrastructure.audit.dashboard import DashboardCheck
from infrastructure.audit.generation_rows import GenerationRows, GenerationRowsCheck
from infrastructure.audit.images import ImagesCheck
from infrastructure.audit.pending_queue import PendingQueueCheck
from infrastructure.audit.rate_limits import RateLimitCheck
from infrastructure.audit.snapshots import Outcome, ViewSnapshots, read_view
from infrastructure.audit.user_generations import UserGenerationsCheck
from infrastructure.audit.view_check import MissingCheck, ViewCheck
from infrastructure.bootstrap import build_read_models
from infrastructure.projections.dashboard import DashboardProjection
from infrastructure.projections.images import ImagesProjection
from infrastructure.projections.pending_queue import PendingQueueProjection
from infrastructure.projections.rate_limits import RateLimitProjection
from infrastructure.projections.read_models import ReadModels
from infrastructure.projections.user_generations import UserGenerationsProjection
from infrastructure.settings import Settings

CHECKS: dict[str, type[ViewCheck]] = {
    PendingQueueProjection.name: PendingQueueCheck,
    RateLimitProjection.name: RateLimitCheck,
    UserGenerationsProjection.name: UserGenerationsCheck,
    ImagesProjection.name: ImagesCheck,
    DashboardProjection.name: DashboardCheck,
}


def view_checks(
    settings: Settings, atelier: Atelier, snapshots: ViewSnapshots | None = None
) -> list[ViewCheck]:
    """One check per read model of the application (none on a memory store, which has none).

    With `snapshots`, each check takes its view's content from them when they have it (read
    ahead of the comparisons: see `view_checks_in_child`); otherwise it reads its view when its
    turn to compare comes.
    """
    models = build_read_models(settings, atelier)
    return [] if models is None else _checks(atelier, models, snapshots)


@contextmanager
def view_checks_in_child(settings: Settings, atelier: Atelier) -> Iterator[list[ViewCheck]]:
    """The checks of `view_checks`, fed by a child process that starts reading the checked read
    models now, as of the log's head now (this process reads those the child has not come to
    when the replay ends: see ViewSnapshots); the child is stopped, if still at work, when the
    block ends."""
    models = build_read_models(settings, atelier)
    if models is None:
        yield []
        return
    views = models.views
    readers = {name: CHECKS[name].read for name in views if name in CHECKS}
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
        check = CHECKS.get(name, MissingCheck)
        if issubclass(check, GenerationRowsCheck):
            checks.append(check(atelier, view, snapshots, rows))
        else:
            checks.append(check(atelier, view, snapshots))
    return checks
