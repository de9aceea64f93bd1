"""One watcher per process: polls the log's head while anyone waits, and wakes the waiters whose
generation an event of any process changed (docs/live_status.md says why a poll)."""

from __future__ import annotations

import asyncio
import logging
from concurrent.futures import ThreadPoolExecutor
from typing import Any
from uuid import UUID

from eventsourcing.application import Application
from eventsourcing.utils import get_topic

from domain.generations import Generation

logger = logging.getLogger("atelier.live")

POLL_SECONDS = 0.2
BATCH_SIZE = 1000
STATUS_EVENTS = (
    Generation.GenerationStarted,
    Generation.GenerationRequeued,
    Generation.GenerationCompleted,
    Generation.GenerationFailed,
    Generation.GenerationCancelled,
    Generation.ProcessingCancelled,
    Generation.GenerationExpired,
)
STATUS_TOPICS = tuple(get_topic(cls) for cls in STATUS_EVENTS)


def as_uuid(originator_id: UUID | str) -> UUID:
    return originator_id if isinstance(originator_id, UUID) else UUID(originator_id)


class Watch:
    """A GenerationWatch, registered with the watcher while entered. A wait is one future and
    one timer, no event, lock or coroutine of its own: a held stream costs little."""

    __slots__ = ("future", "generation_id", "pending", "timer", "watcher")

    def __init__(self, watcher: LogHeadWatcher, generation_id: UUID) -> None:
        self.watcher = watcher
        self.generation_id = generation_id
        self.pending = False  # a change came while nobody waited
        self.future: asyncio.Future[bool] | None = None
        self.timer: asyncio.TimerHandle | None = None

    async def __aenter__(self) -> Watch:
        await self.watcher.register(self)
        return self

    async def __aexit__(self, *_: object) -> None:
        self.watcher.unregister(self)
        self._settle(False)

    def changed(self, timeout: float) -> asyncio.Future[bool]:
        self._settle(False)  # a wait given up (cancelled) or never awaited ends here
        loop = asyncio.get_running_loop()
        future: asyncio.Future[bool] = loop.create_future()
        if self.pending:
            self.pending = False
            future.set_result(True)
        else:
            self.future = future
            self.timer = loop.call_later(timeout, self._time_out, future)
        return future

    def wake(self) -> None:
        if self.future is None or self.future.done():
            self.pending = True
        else:
            self._settle(True)

    def _time_out(self, future: asyncio.Future[bool]) -> None:
        if future is self.future:  # this wait's own timer, not an earlier one's
            self._settle(False)

    def _settle(self, changed: bool) -> None:
        future, timer = self.future, self.timer
        self.future = self.timer = None
        if timer is not None:
            timer.cancel()
        if future is not None and not future.done():
            future.set_result(changed)


class LogHeadWatcher:
    """GenerationChanges over the application log, on any store (SQLite, PostgreSQL, memory).

    Its database reads run in one thread of its own, so a thousand waiters hold no thread and
    the requests' thread pool is not queued behind it."""

    name = "log-head-watcher"

    def __init__(self, application: Application[Any], poll_seconds: float = POLL_SECONDS) -> None:
        self.recorder = application.recorder
        self.poll_seconds = poll_seconds
        self.waiters: dict[UUID, list[Watch]] = {}  # lists: one is 64 bytes, a set 216
        self.position: int | None = None  # the head as last read; None while nobody waits
        self.polling: asyncio.Task[None] | None = None
        self.starting = asyncio.Lock()
        self.reader = ThreadPoolExecutor(max_workers=1, thread_name_prefix="log-head-watcher")

    def watch(self, generation_id: UUID) -> Watch:
        return Watch(self, generation_id)

    async def register(self, watch: Watch) -> None:
        async with self.starting:
            if self.position is None:
                self.position = await self._read(self._head)
        # No await from here to the registration: a poll cannot slip between them.
        self.waiters.setdefault(watch.generation_id, []).append(watch)
        if self.polling is None:
            self.polling = asyncio.get_running_loop().create_task(self._poll())

    def unregister(self, watch: Watch) -> None:
        waiting = self.waiters.get(watch.generation_id)
        if waiting is not None and watch in waiting:
            waiting.remove(watch)
            if not waiting:
                del self.waiters[watch.generation_id]

    @property
    def waiting(self) -> int:
        return sum(len(waiters) for waiters in self.waiters.values())

    def start(self) -> None:
        """Nothing runs until someone waits."""

    def stop(self) -> None:
        if self.polling is not None:
            self.polling.cancel()
        self.reader.shutdown(wait=False, cancel_futures=True)

    async def _poll(self) -> None:
        while True:
            await asyncio.sleep(self.poll_seconds)
            if not self.waiters:
                self.position = None  # stop reading the store until someone waits again
                self.polling = None
                return
            try:
                await self._wake_changed()
            except Exception:
                logger.exception("reading the log's head failed; trying again")

    async def _wake_changed(self) -> None:
        changed, self.position = await self._read(self._changed_since, self.position or 0)
        for generation_id in changed:
            for watch in self.waiters.get(generation_id, ()):
                watch.wake()

    async def _read(self, function: Any, *arguments: Any) -> Any:
        return await asyncio.get_running_loop().run_in_executor(self.reader, function, *arguments)

    def _head(self) -> int:
        return self.recorder.max_notification_id() or 0

    def _changed_since(self, start: int) -> tuple[set[UUID], int]:
        """Generations whose status events lie past `start`, up to the head read now, and that
        head: one trip to the reader thread per poll."""
        head = self._head()
        changed: set[UUID] = set()
        while start < head:
            notifications = self.recorder.select_notifications(
                start=start,
                limit=BATCH_SIZE,
                stop=head,
                topics=STATUS_TOPICS,
                inclusive_of_start=False,
            )
            changed.update(as_uuid(notification.originator_id) for notification in notifications)
            start = notifications[-1].id if len(notifications) == BATCH_SIZE else head
        return changed, max(start, head)
