"""Every projection of the Atelier log, on the application's own database, and their queries."""

from __future__ import annotations

import math
from datetime import datetime

from eventsourcing.postgres import PostgresApplicationRecorder
from eventsourcing.sqlite import SQLiteApplicationRecorder

from application.base import AtelierBase
from application.queries import ProjectionStatus, UserNearLimit
from domain.accounts import RATE_WINDOW
from infrastructure.projections.activity import Activity, ActivityProjection
from infrastructure.projections.catch_up import DEFAULT_BATCH_SIZE
from infrastructure.projections.dashboard import Dashboard, DashboardProjection
from infrastructure.projections.freshness import Freshness
from infrastructure.projections.health import FollowerHealthTable
from infrastructure.projections.images import Images, ImagesProjection
from infrastructure.projections.pending_queue import (
    PendingQueue,
    PendingQueueProjection,
    rebuild_if_uncounted,
)
from infrastructure.projections.postgres_view import PostgresProjectionView
from infrastructure.projections.rate_limits import RateLimitProjection, RateLimitWindows
from infrastructure.projections.registry import PROJECTIONS
from infrastructure.projections.runner import BatchObserver, Leadership, ProjectionRunner
from infrastructure.projections.sqlite_view import SQLiteProjectionView
from infrastructure.projections.table_projection import TableProjection
from infrastructure.projections.user_generations import (
    UserGenerations,
    UserGenerationsProjection,
)
from infrastructure.projections.view import ProjectionView
from infrastructure.projections.webhooks import WebhooksProjection, WebhookViews

DEFAULT_POLL_SECONDS = 0.02
NEAR_LIMIT_SHARE = 0.8  # a user at 80% of the hourly limit or more is "near" it


class UnsupportedStore(Exception):
    """The views are SQL tables beside the events: they need SQLite or PostgreSQL."""


def view_on(atelier: AtelierBase, projection: TableProjection) -> ProjectionView:
    """The projection's view in the same database (and schema) as the application's events."""
    recorder = atelier.recorder
    if isinstance(recorder, SQLiteApplicationRecorder):
        return SQLiteProjectionView(recorder.datastore, projection, atelier.name)
    if isinstance(recorder, PostgresApplicationRecorder):
        return PostgresProjectionView(recorder.datastore, projection, atelier.name)
    raise UnsupportedStore(f"Projections need SQLite or PostgreSQL, not {type(recorder).__name__}")


class ReadModels:
    """The views, the queries the routes and ports ask of them, and a runner to feed them."""

    def __init__(self, atelier: AtelierBase, wait_seconds: float) -> None:
        self.atelier = atelier
        self.views = {cls.name: view_on(atelier, cls()) for cls in PROJECTIONS}
        self.health = FollowerHealthTable(next(iter(self.views.values())), atelier.name)
        self.freshness = Freshness(atelier.recorder, wait_seconds, self.health.failing)
        policy = atelier.policy
        self.pending_queue = PendingQueue(
            self.views[PendingQueueProjection.name], self.freshness, policy.queue_capacity
        )
        self.rate_limits = RateLimitWindows(
            self.views[RateLimitProjection.name], self.freshness, policy.hourly_limit
        )
        self.images = Images(self.views[ImagesProjection.name], self.freshness)
        self.generations = UserGenerations(
            self.views[UserGenerationsProjection.name],
            self.freshness,
            self.images,
            self.pending_queue,
        )
        self.dashboard = Dashboard(self.views[DashboardProjection.name], self.freshness)
        self.activity = Activity(self.views[ActivityProjection.name], self.freshness)
        self.webhooks = WebhookViews(self.views[WebhooksProjection.name], self.freshness)

    def near_limit(self, now: datetime, count: int) -> list[UserNearLimit]:
        """From the rate-limit windows, each named by its user from the generations view."""
        limit = self.rate_limits.limit
        if limit is None:
            return []
        at_least = max(1, math.ceil(limit * NEAR_LIMIT_SHARE))
        windows = self.rate_limits.fullest(now, at_least, count)
        users = self.generations.users_of([window.generation_id for window in windows])
        return [
            UserNearLimit(users[w.generation_id], w.used, limit, w.oldest + RATE_WINDOW)
            for w in windows
            if w.generation_id in users
        ]

    def create_tables(self) -> None:
        for view in self.views.values():
            view.create_table()
        rebuild_if_uncounted(self.views[PendingQueueProjection.name])

    def view(self, name: str) -> ProjectionView:
        return self.views[name]

    def status(self) -> list[ProjectionStatus]:
        """Each view's position and lag behind the log's head, and its failure, as of now."""
        failures = self.health.failures()
        head = self.freshness.head()
        statuses = []
        for name, view in self.views.items():
            position = view.position()
            failure = failures.get(name)
            statuses.append(
                ProjectionStatus(name, position, max(0, head - position))
                if failure is None
                else ProjectionStatus(
                    name,
                    position,
                    max(0, head - position),
                    failure.error,
                    failure.position,
                    failure.since,
                )
            )
        return statuses

    def runner(
        self,
        batch_size: int = DEFAULT_BATCH_SIZE,
        poll_interval: float = DEFAULT_POLL_SECONDS,
        observer: BatchObserver | None = None,
        leadership: Leadership | None = None,
    ) -> ProjectionRunner:
        return ProjectionRunner(
            self.atelier,
            list(self.views.values()),
            batch_size,
            poll_interval,
            observer,
            leadership,
            self.health,
        )
