"""Catching a follower up with the application's log: read, apply in batches, repeat.

Pull-based, so it works on both stores (the library's subscriptions cannot follow SQLite)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from eventsourcing.application import Application

from infrastructure.projections.follower import Follower, PositionMoved

DEFAULT_BATCH_SIZE = 1000
# A rebuild has the whole log to apply and nothing to keep fresh: bigger batches spend less on
# commits (each one an fsync on SQLite), at the price of holding the write lock longer.
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
    """Apply every event `follower` follows up to `until` (default: the log's head now).

    Returns how many events this call applied. The position always ends at `until` or beyond,
    even when none of the events since concern the follower, so a reader waiting for the head
    never waits on an event it does not follow. `position`, when the caller knows it
    (a runner that moved it last), saves reading it; if another runner has moved it since,
    the first batch finds out and reads it. `on_batch(applied, position)` is told about each
    committed batch; `keep_going()` is asked before each, so a runner that is stopping stops
    between two batches (the position then ends short of `until`).
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
