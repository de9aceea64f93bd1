"""Every view of the Atelier log, in the order they are created, run and reported."""

from __future__ import annotations

from infrastructure.projections.activity import ActivityProjection
from infrastructure.projections.dashboard import DashboardProjection
from infrastructure.projections.images import ImagesProjection
from infrastructure.projections.pending_queue import PendingQueueProjection
from infrastructure.projections.rate_limits import RateLimitProjection
from infrastructure.projections.table_projection import TableProjection
from infrastructure.projections.user_generations import UserGenerationsProjection
from infrastructure.projections.webhooks import WebhooksProjection

PROJECTIONS: tuple[type[TableProjection], ...] = (
    PendingQueueProjection,
    RateLimitProjection,
    UserGenerationsProjection,
    ImagesProjection,
    DashboardProjection,
    ActivityProjection,
    WebhooksProjection,
)
