"""The projection runner: keeps every view caught up with the log, in background threads.

A server process runs one as a background service (started and stopped with the app); `atelier
projections run` runs one on its own. Any number of runners may follow the same views at once,
in threads or processes: the tracking compare-and-set lets exactly one apply each batch.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from functools import partial
from typing import Any, Protocol

from eventsourcing.application import Application

from infrastructure.background import PeriodicThread
from infrastructure.projections.catch_up import catch_up
from infrastructure.projections.view import PositionMoved, ProjectionView

logger = logging.getLogger(__name__)

RECHECK_SECONDS = 1.0

# Told (view name, position) after each batch a runner commits: for metrics and the bench.
BatchObserver = Callable[[str, int], None]


class Leadership(Protocol):
    """Whether this runner's process leads the projection work (infrastructure/locks)."""

    def leads(self) -> bool: ...

    def release(self) -> None: ...


class ProjectionRunner:
    """Polls the log's head and catches every view up to it, the views side by side.

    The views are caught up in parallel threads: on PostgreSQL most of a batch is waiting for
    the database, so five views in parallel take about as long as the slowest one, which is
    what a reader waiting for the head waits for.
    """

    name = "projections"

    def __init__(
        self,
        application: Application[Any],
        views: Sequence[ProjectionView],
        batch_size: int,
        poll_interval: float,
        observer: BatchObserver | None = None,
        leadership: Leadership | None = None,
    ) -> None:
        self.application = application
        # With a leadership lock only the leading process does the work; the others stand by
        # and take over when it stops or dies. Several runners would each read, decode and
        # compute every batch for one of them to write it, which on a shared CPU slows the
        # requests the views exist to serve.
        self.leadership = leadership
        self.views = list(views)
        self.batch_size = batch_size
        self.observer = observer
        # Where this runner left each view, so an idle poll costs one query (the log's head)
        # rather than one per view. Another runner may have moved a view further (the next
        # batch's compare-and-set finds out) or a rebuild may have reset it, so what is known
        # is forgotten and read again every RECHECK_SECONDS.
        self._known: dict[str, int] = {}
        self._known_since = time.monotonic()
        self._pool: ThreadPoolExecutor | None = None
        self._stopping = threading.Event()  # a long catch-up stops between two batches
        self._thread = PeriodicThread(self.name, self.run_once, poll_interval)

    def run_once(self) -> bool:
        """Catch every view up to the head as of now.

        True only when a view applied a full batch, so more is waiting: the next round starts
        at once. Otherwise the runner waits its poll interval, and under steady load each
        round's transaction carries the events of a whole interval rather than of a few.
        """
        if self.leadership is not None and not self.leadership.leads():
            return False
        head = self.application.recorder.max_notification_id() or 0
        if time.monotonic() - self._known_since > RECHECK_SECONDS:
            self._known.clear()
            self._known_since = time.monotonic()
        behind = [view for view in self.views if self._known.get(view.name, -1) < head]
        # Views this runner left at the same position step together: one read of the log and
        # one decoding of each event serve them all (reading and decoding were most of a
        # round's cost). A view whose position is not known here catches up on its own.
        together: dict[int, list[ProjectionView]] = {}
        alone: list[ProjectionView] = []
        for view in behind:
            known = self._known.get(view.name)
            (alone if known is None else together.setdefault(known, [])).append(view)
        applied = [self._step_together(views, start, head) for start, views in together.items()]
        follow = partial(self._follow, head=head)
        applied += self._pool.map(follow, alone) if self._pool else map(follow, alone)
        return max(applied, default=0) >= self.batch_size

    def _step_together(self, views: list[ProjectionView], start: int, head: int) -> int:
        """Catch `views`, all at `start`, up to `head` with shared reads; the most applied."""
        application = self.application
        topics = tuple(sorted({t for view in views for t in view.projection.topics}))
        applied = 0
        while views and start < head and not self._stopping.is_set():
            notifications = application.recorder.select_notifications(
                start=start,
                limit=self.batch_size,
                stop=head,
                topics=topics,
                inclusive_of_start=False,
            )
            reached = notifications[-1].id if len(notifications) == self.batch_size else head
            decoded = [
                (n.topic, application.mapper.to_domain_event(n), n.id) for n in notifications
            ]
            commit = partial(self._commit_share, decoded=decoded, start=start, reached=reached)
            committed = list(self._pool.map(commit, views) if self._pool else map(commit, views))
            views = [view for view, done in zip(views, committed, strict=True) if done]
            applied = max(applied, len(notifications))
            start = reached
        return applied

    def _commit_share(
        self, view: ProjectionView, decoded: list[tuple[str, Any, int]], start: int, reached: int
    ) -> bool:
        """Apply the view's share of a shared batch; False if another runner moved it."""
        followed = view.projection.handlers
        writes = view.projection.writes_for(d for d in decoded if d[0] in followed)
        try:
            view.commit(writes, expected=start, position=reached)
        except PositionMoved:
            self._known.pop(view.name, None)  # read its position again next round
            return False
        self._known[view.name] = reached
        if self.observer is not None:
            self.observer(view.name, reached)
        return True

    def _follow(self, view: ProjectionView, head: int) -> int:
        known = self._known.pop(view.name, None)
        applied = catch_up(
            self.application,
            view,
            self.batch_size,
            until=head,
            position=known,
            on_batch=self._told(view),
            keep_going=lambda: not self._stopping.is_set(),
        )
        if not self._stopping.is_set():
            self._known[view.name] = head  # it got there (else it is read again next time)
        return applied

    def _told(self, view: ProjectionView) -> Callable[[int, int], None] | None:
        observer = self.observer
        if observer is None:
            return None
        return lambda applied, position: observer(view.name, position)

    def start(self) -> None:
        logger.info("projection runner following %s", ", ".join(v.name for v in self.views))
        self._stopping.clear()
        self._pool = ThreadPoolExecutor(len(self.views), thread_name_prefix=self.name)
        self._thread.start()

    def stop(self) -> None:
        self._stopping.set()
        self._thread.stop()
        if self._pool is not None:
            self._pool.shutdown(wait=True)
            self._pool = None
        if self.leadership is not None:
            self.leadership.release()
