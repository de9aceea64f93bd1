"""Which check compares which read model: every projection of the application gets one.

A projection without a check is reported (projection-unverified) rather than skipped, so adding
a read model without teaching the audit to compare it cannot go unnoticed.
"""

from __future__ import annotations

from application.service import Atelier
from infrastructure.audit.dashboard import DashboardCheck
from infrastructure.audit.images import ImagesCheck
from infrastructure.audit.pending_queue import PendingQueueCheck
from infrastructure.audit.rate_limits import RateLimitCheck
from infrastructure.audit.snapshots import ViewSnapshots
from infrastructure.audit.user_generations import UserGenerationsCheck
from infrastructure.audit.view_check import MissingCheck, ViewCheck
from infrastructure.bootstrap import build_read_models
from infrastructure.projections.dashboard import DashboardProjection
from infrastructure.projections.images import ImagesProjection
from infrastructure.projections.pending_queue import PendingQueueProjection
from infrastructure.projections.rate_limits import RateLimitProjection
from infrastructure.projections.user_generations import UserGenerationsProjection
from infrastructure.settings import Settings

CHECKS: dict[str, type[ViewCheck]] = {
    PendingQueueProjection.name: PendingQueueCheck,
    RateLimitProjection.name: RateLimitCheck,
    UserGenerationsProjection.name: UserGenerationsCheck,
    ImagesProjection.name: ImagesCheck,
    DashboardProjection.name: DashboardCheck,
}


def view_checks(settings: Settings, atelier: Atelier, *, parallel: bool = False) -> list[ViewCheck]:
    """One check per read model of the application (none on a memory store, which has none).

    `parallel`: a child process starts reading the read models now, as of the log's head now,
    while the audit replays the log (see snapshots.py); otherwise each check reads its view
    when its turn to compare comes.
    """
    models = build_read_models(settings, atelier)
    if models is None:
        return []
    snapshots = None
    if parallel:
        readers = {name: CHECKS[name].read for name in models.views if name in CHECKS}
        head = atelier.recorder.max_notification_id() or 0
        snapshots = ViewSnapshots(settings, readers, until=head)
    return [
        CHECKS.get(name, MissingCheck)(atelier, view, snapshots)
        for name, view in models.views.items()
    ]
