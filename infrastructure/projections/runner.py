"""The runner: keeps every follower (views, effects) caught up with the log, in the background."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from functools import partial
from typing import Any, Protocol

from eventsourcing.application import Application

from infrastructure.background import Backoff, LoopHealth, PeriodicThread
from infrastructure.projections.catch_up import catch_up
from infrastructure.projections.follower import Followed, Follower, PositionMoved

logger = logging.getLogger(__name__)

RECHECK_SECONDS = 1.0

# Told (follower name, position) after each batch a runner commits: for metrics and the bench.
BatchObserver = Callable[[str, int], None]


class HealthLog(Protocol):
    """Where a follower's change of state is recorded for other processes (health.py)."""

    def record(self, name: str, health: LoopHealth, now: datetime) -> None: ...


# What is published of a follower: None when healthy, else its error and stuck position.
Published = tuple[str, int | None] | None


class Leadership(Protocol):
    """Whether this runner's process leads the projection work (infrastructure/locks)."""

    def leads(self) -> bool: ...

    def release(self) -> None: ...


class ProjectionRunner:
    """Polls the log's head and catches every follower up to it, the followers side by side."""

    name = "projections"

    def __init__(
        self,
        application: Application[Any],
        followers: Sequence[Follower],
        batch_size: int,
        poll_interval: float,
        observer: BatchObserver | None = None,
        leadership: Leadership | None = None,
        health_log: HealthLog | None = None,
    ) -> None:
        self.application = application
        self.health_log = health_log
        self._published: dict[str, Published] = {}  # absent: not yet written by this runner
        self.leadership = leadership  # None: this runner works whether or not others do
        self.followers = list(followers)
        self.batch_size = batch_size
        self.observer = observer
        self._topics = {f.name: frozenset(f.topics) for f in self.followers}
        self._backoffs = {f.name: Backoff(f"follower {f.name}", poll_interval) for f in followers}
        # Where this runner left each follower; forgotten every RECHECK_SECONDS (a rebuild).
        self._known: dict[str, int] = {}
        self._known_since = time.monotonic()
        self._pool: ThreadPoolExecutor | None = None
        self._stopping = threading.Event()  # a long catch-up stops between two batches
        self._thread = PeriodicThread(self.name, self.run_once, poll_interval)

    @property
    def health(self) -> LoopHealth:
        """The runner's own: reading the log's head (a follower's failures are its own)."""
        return self._thread.health

    def follower_health(self) -> dict[str, LoopHealth]:
        return {name: backoff.health for name, backoff in self._backoffs.items()}

    def run_once(self) -> bool:
        """Catch every follower up to the head; True when a full batch was applied (more waits)."""
        if self.leadership is not None and not self.leadership.leads():
            return False
        head = self.application.recorder.max_notification_id() or 0
        if time.monotonic() - self._known_since > RECHECK_SECONDS:
            self._known.clear()
            self._known_since = time.monotonic()
        now = time.monotonic()
        backoffs = self._backoffs
        behind = [
            follower
            for follower in self.followers
            if self._known.get(follower.name, -1) < head and backoffs[follower.name].retry_at <= now
        ]
        # Followers at one known position share a read and its decoding; the others go alone.
        together: dict[int, list[Follower]] = {}
        alone: list[Follower] = []
        for follower in behind:
            known = self._known.get(follower.name)
            (alone if known is None else together.setdefault(known, [])).append(follower)
        applied = [self._step_together(group, start, head) for start, group in together.items()]
        follow = partial(self._follow, head=head)
        applied += self._pool.map(follow, alone) if self._pool else map(follow, alone)
        self._publish()
        return max(applied, default=0) >= self.batch_size

    def _publish(self) -> None:
        """Write each follower's state where it differs from what was last written."""
        if self.health_log is None:
            return
        for name, backoff in self._backoffs.items():
            health = backoff.health
            state = (health.error, health.position) if health.error is not None else None
            if name in self._published and self._published[name] == state:
                continue
            try:
                self.health_log.record(name, health, datetime.now(UTC))
            except Exception:  # the store may be what fails: tried again next round
                logger.debug("could not record %s's health", name, exc_info=True)
                continue
            self._published[name] = state

    def _step_together(self, followers: list[Follower], start: int, head: int) -> int:
        """Catch `followers`, all at `start`, up to `head` with shared reads; the most applied."""
        application = self.application
        topics = tuple(sorted({t for follower in followers for t in follower.topics}))
        applied = 0
        while followers and start < head and not self._stopping.is_set():
            try:
                notifications = application.recorder.select_notifications(
                    start=start,
                    limit=self.batch_size,
                    stop=head,
                    topics=topics,
                    inclusive_of_start=False,
                )
                decoded = [
                    (n.topic, application.mapper.to_domain_event(n), n.id) for n in notifications
                ]
            except Exception:
                for follower in followers:  # next round each goes alone, so a fault is its own
                    self._known.pop(follower.name, None)
                raise
            reached = notifications[-1].id if len(notifications) == self.batch_size else head
            commit = partial(self._commit_share, decoded=decoded, start=start, reached=reached)
            pool = self._pool
            committed = list(pool.map(commit, followers) if pool else map(commit, followers))
            followers = [f for f, done in zip(followers, committed, strict=True) if done]
            applied = max(applied, len(notifications))
            start = reached
        return applied

    def _commit_share(
        self, follower: Follower, decoded: list[Followed], start: int, reached: int
    ) -> bool:
        """Apply the follower's share of a shared batch; False if it failed or was moved."""
        name = follower.name
        topics = self._topics[name]
        try:
            follower.apply((d for d in decoded if d[0] in topics), start, reached)
        except PositionMoved:
            self._known.pop(name, None)  # read its position again next round
            return False
        except Exception as error:
            self._failed(follower, error, start)
            return False
        self._committed(name, reached)
        return True

    def _committed(self, name: str, position: int) -> None:
        self._known[name] = position
        self._backoffs[name].succeeded()
        if self.observer is not None:
            self.observer(name, position)

    def _failed(self, follower: Follower, error: Exception, position: int | None) -> None:
        self._known.pop(follower.name, None)
        if position is None:
            try:
                position = follower.position()
            except Exception:  # the store itself may be what fails
                position = None
        self._backoffs[follower.name].failed(error, position)

    def _follow(self, follower: Follower, head: int) -> int:
        name = follower.name
        known = self._known.pop(name, None)
        try:
            applied = catch_up(
                self.application,
                follower,
                self.batch_size,
                until=head,
                position=known,
                on_batch=lambda count, position: self._committed(name, position),
                keep_going=lambda: not self._stopping.is_set(),
            )
        except Exception as error:
            self._failed(follower, error, None)
            return 0
        if not self._stopping.is_set():
            self._known[name] = head  # it got there (else it is read again next time)
        return applied

    def start(self) -> None:
        logger.info("projection runner following %s", ", ".join(f.name for f in self.followers))
        self._stopping.clear()
        self._pool = ThreadPoolExecutor(len(self.followers), thread_name_prefix=self.name)
        self._thread.start()

    def stop(self) -> None:
        self._stopping.set()
        self._thread.stop()
        if self._pool is not None:
            self._pool.shutdown(wait=True)
            self._pool = None
        if self.leadership is not None:
            self.leadership.release()
