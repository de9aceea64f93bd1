"""Catching a follower up with the application's log: read, apply in batches, repeat."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from eventsourcing.application import Application

from infrastructure.projections.follower import Follower, PositionMoved

DEFAULT_BATCH_SIZE = 1000
REBUILD_BATCH_SIZE = 5000


def catch_up(
    application: Application[Any],
    follower: Follower,
    batch_size: int = DEFAULT_BATCH_SIZE,
    *,
    until: int | None = None,
    position: int | None = None,
    on_batch: Callable[[int, int], None] | None = None,
    keep_going: Callable[[], bool] = lambda: True,
) -> int:
    """Apply every followed event up to `until` (default: the head now); how many were applied.

    `position`, if known, saves a read; `keep_going()` is asked before each batch, `on_batch`
    (applied, position) told after each commit.
    """
    recorder = application.recorder
    head = until if until is not None else recorder.max_notification_id() or 0
    topics = follower.topics
    applied = 0
    while keep_going():
        if position is None:
            position = follower.position()
        if position >= head:
            return applied
        notifications = recorder.select_notifications(
            start=position, limit=batch_size, stop=head, topics=topics, inclusive_of_start=False
        )
        # A short batch holds every followed event up to the head: the position moves there.
        reached = notifications[-1].id if len(notifications) == batch_size else head
        events = ((n.topic, application.mapper.to_domain_event(n), n.id) for n in notifications)
        try:
            follower.apply(events, expected=position, reached=reached)
        except PositionMoved:
            position = None  # another runner applied some of these: start from where it got
            continue
        position = reached
        applied += len(notifications)
        if on_batch is not None:
            on_batch(len(notifications), reached)
    return applied
