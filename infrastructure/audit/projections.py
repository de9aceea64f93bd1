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


def view_checks(settings: Settings, atelier: Atelier) -> list[ViewCheck]:
    """One check per read model of the application (none on a memory store, which has none)."""
    models = build_read_models(settings, atelier)
    if models is None:
        return []
    return [CHECKS.get(name, MissingCheck)(atelier, view) for name, view in models.views.items()]
