"""Rebuilding views together: each page of the log is read and decoded once for all of them."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from eventsourcing.application import Application

from infrastructure.projections.catch_up import REBUILD_BATCH_SIZE, catch_up
from infrastructure.projections.follower import PositionMoved
from infrastructure.projections.view import ProjectionView


def rebuild_together(
    application: Application[Any],
    views: Sequence[ProjectionView],
    batch_size: int = REBUILD_BATCH_SIZE,
    on_batch: Callable[[int, int], None] | None = None,
) -> dict[str, int]:
    """Reset `views` and replay the log up to its head as of now into all of them in one pass;
    how many events each applied. A view another runner moves meanwhile catches up alone."""
    for view in views:
        view.reset()
    recorder = application.recorder
    head = recorder.max_notification_id() or 0
    topics = tuple(sorted({topic for view in views for topic in view.topics}))
    wanted = {view.name: frozenset(view.topics) for view in views}
    following = list(views)
    moved: list[ProjectionView] = []
    applied = dict.fromkeys(wanted, 0)
    position = 0
    while following and position < head:
        notifications = recorder.select_notifications(
            start=position, limit=batch_size, stop=head, topics=topics, inclusive_of_start=False
        )
        reached = notifications[-1].id if len(notifications) == batch_size else head
        to_domain_event = application.mapper.to_domain_event
        decoded = [(n.topic, to_domain_event(n), n.id) for n in notifications]
        for view in list(following):
            topics_of_view = wanted[view.name]
            share = [d for d in decoded if d[0] in topics_of_view]
            try:
                view.apply(share, position, reached)
            except PositionMoved:
                following.remove(view)
                moved.append(view)
                continue
            applied[view.name] += len(share)
        position = reached
        if on_batch is not None:
            on_batch(len(notifications), reached)
    for view in moved:
        view.reset()
        applied[view.name] = catch_up(application, view, batch_size, until=head)
    return applied
