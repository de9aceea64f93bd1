"""Catching a view up with the application's log: pull, apply in batches, track, repeat.

Pull-based, so it works on both stores (the library's subscriptions cannot follow a SQLite
application). Each batch is one transaction: the view's writes for up to `batch_size` events
it follows, and its tracking position moved by compare-and-set (see view.py). A batch that
finds the position moved by another runner is dropped, and the position re-read.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from eventsourcing.application import Application

from infrastructure.projections.view import PositionMoved, ProjectionView

DEFAULT_BATCH_SIZE = 1000
# A rebuild has the whole log to apply and nothing to keep fresh: bigger batches spend less on
# commits (each one an fsync on SQLite), at the price of holding the write lock longer.
REBUILD_BATCH_SIZE = 5000


def catch_up(
    application: Application[Any],
    view: ProjectionView,
    batch_size: int = DEFAULT_BATCH_SIZE,
    *,
    until: int | None = None,
    position: int | None = None,
    on_batch: Callable[[int, int], None] | None = None,
    keep_going: Callable[[], bool] = lambda: True,
) -> int:
    """Apply every event the view follows up to `until` (default: the log's head now).

    Returns how many events this call applied. The position always ends at `until` or beyond,
    even when none of the events since concern the view, so a reader waiting for the head
    never waits on an event the view does not follow. `position`, when the caller knows it
    (a runner that moved it last), saves reading it; if another runner has moved it since,
    the first batch finds out and reads it. `on_batch(applied, position)` is told about each
    committed batch; `keep_going()` is asked before each, so a runner that is stopping stops
    between two batches (the position then ends short of `until`).
    """
    recorder = application.recorder
    head = until if until is not None else recorder.max_notification_id() or 0
    topics = view.projection.topics
    applied = 0
    while keep_going():
        if position is None:
            position = view.position()
        if position >= head:
            return applied
        notifications = recorder.select_notifications(
            start=position, limit=batch_size, stop=head, topics=topics, inclusive_of_start=False
        )
        # A short batch holds every followed event up to the head: the position moves there.
        reached = notifications[-1].id if len(notifications) == batch_size else head
        events = ((n.topic, application.mapper.to_domain_event(n), n.id) for n in notifications)
        writes = view.projection.writes_for(events)
        try:
            view.commit(writes, expected=position, position=reached)
        except PositionMoved:
            position = None  # another runner applied some of these: start from where it got
            continue
        position = reached
        applied += len(notifications)
        if on_batch is not None:
            on_batch(len(notifications), reached)
    return applied
