"""Group commit: one thread per process decides the waiting submissions as a batch, one save.

Why: docs/architecture.md, "Submission".
"""

from __future__ import annotations

import asyncio
import logging
import queue
import threading
from collections.abc import Callable
from contextlib import AbstractContextManager, suppress
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from eventsourcing.persistence import IntegrityError, InterfaceError, OperationalError

from application.errors import Contention
from application.retries import MAX_ATTEMPTS, back_off

logger = logging.getLogger(__name__)

MAX_BATCH = 64
_STOP = object()

Item = TypeVar("Item")
Answer = TypeVar("Answer")


@dataclass
class _Waiting(Generic[Item, Answer]):
    """An item, and whom to tell its outcome (once, from the group commit's thread)."""

    item: Item
    on_settled: Callable[[Answer | BaseException], None]
    settled: bool = False

    def settle(self, outcome: Answer | BaseException) -> None:
        self.settled = True
        self.on_settled(outcome)


def _resolve(answer: asyncio.Future[Answer], outcome: Answer | BaseException) -> None:
    if answer.done():  # its request gave up waiting (a deadline): the outcome still stands
        return
    if isinstance(outcome, StopIteration):  # a future refuses it (TypeError)
        answer.set_exception(RuntimeError(repr(outcome)))
    elif isinstance(outcome, BaseException):
        answer.set_exception(outcome)
    else:
        answer.set_result(outcome)


DecideAndSave = Callable[[list[Item], bool], list[Answer | BaseException]]


class GroupCommit(Generic[Item, Answer]):
    """Hands each waiting item to `decide_and_save` in batches, in a thread of its own.

    `decide_and_save(batch, first_attempt)` answers each item in order, or raises the
    IntegrityError of a lost version race: the whole batch is then decided again. Any other
    failure but the store's own is decided again one item at a time, so an item that cannot be
    saved fails alone.
    """

    def __init__(
        self,
        decide_and_save: DecideAndSave[Item, Answer],
        lock: AbstractContextManager[Any],
        max_batch: int = MAX_BATCH,
        on_batch: Callable[[int], None] | None = None,
    ) -> None:
        """`on_batch` hears the size of each batch taken (a metric's histogram)."""
        self.decide_and_save = decide_and_save
        self.on_batch = on_batch
        self.lock = lock
        self.max_batch = max_batch
        self._waiting: queue.SimpleQueue[_Waiting[Item, Answer] | object] = queue.SimpleQueue()
        self._thread: threading.Thread | None = None
        self._starting = threading.Lock()

    def submit(self, item: Item) -> Answer:
        self._ensure_running()
        done = threading.Event()
        outcomes: list[Answer | BaseException] = []

        def settled(outcome: Answer | BaseException) -> None:
            outcomes.append(outcome)
            done.set()

        self._waiting.put(_Waiting[Item, Answer](item, settled))
        done.wait()
        if isinstance(outcomes[0], BaseException):
            raise outcomes[0]
        return outcomes[0]

    async def submit_async(self, item: Item) -> Answer:
        """`submit` for the event loop: the wait for the batch holds no thread."""
        self._ensure_running()
        loop = asyncio.get_running_loop()
        answer: asyncio.Future[Answer] = loop.create_future()

        def settled(outcome: Answer | BaseException) -> None:  # in the group commit's thread
            with suppress(RuntimeError):  # the loop closed: nobody is left to answer
                loop.call_soon_threadsafe(_resolve, answer, outcome)

        self._waiting.put(_Waiting[Item, Answer](item, settled))
        return await answer

    def close(self) -> None:
        if self._thread is not None:
            self._waiting.put(_STOP)
            self._thread.join(timeout=10)
            self._thread = None

    def _ensure_running(self) -> None:
        if self._thread is not None:
            return
        with self._starting:
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="group-commit", daemon=True)
                self._thread.start()

    def _run(self) -> None:
        while True:
            first = self._waiting.get()
            if first is _STOP:
                return
            batch = [first]
            while len(batch) < self.max_batch:
                try:
                    item = self._waiting.get_nowait()
                except queue.Empty:
                    break
                if item is _STOP:
                    self._waiting.put(_STOP)
                    break
                batch.append(item)
            waiting = [w for w in batch if isinstance(w, _Waiting)]
            try:
                if self.on_batch is not None:
                    self.on_batch(len(waiting))
                self._commit(waiting)
            except BaseException as error:  # answer everyone, whatever went wrong
                logger.exception("group commit failed")
                for each in waiting:
                    if not each.settled:
                        each.settle(error)

    def _commit(self, batch: list[_Waiting[Item, Answer]], first_attempt: bool = True) -> None:
        items = [waiting.item for waiting in batch]
        try:
            outcomes = self._decide(items, first_attempt)
        except (OperationalError, InterfaceError):
            raise  # the store is out of reach: every item hears it
        except Exception:
            if len(batch) == 1:
                raise
            logger.exception("a batch of %d could not be saved; deciding each alone", len(batch))
            for waiting in batch:
                self._commit_alone(waiting)
            return
        if outcomes is None:
            for waiting in batch:
                waiting.settle(Contention())
            return
        for waiting, outcome in zip(batch, outcomes, strict=True):
            waiting.settle(outcome)

    def _commit_alone(self, waiting: _Waiting[Item, Answer]) -> None:
        try:
            self._commit([waiting], first_attempt=False)
        except Exception as error:
            logger.exception("a submission could not be saved")
            waiting.settle(error)

    def _decide(
        self, items: list[Item], first_attempt: bool
    ) -> list[Answer | BaseException] | None:
        """The outcomes, or None when every attempt lost a version race."""
        for attempt in range(MAX_ATTEMPTS):
            with self.lock:
                try:
                    return self.decide_and_save(items, first_attempt and attempt == 0)
                except IntegrityError:
                    back_off(attempt)
        return None
