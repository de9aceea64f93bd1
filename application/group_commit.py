"""Group commit: one thread per process decides the waiting submissions as a batch, one save.

Why: docs/architecture.md, "Submission".
"""

from __future__ import annotations

import logging
import queue
import threading
from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

from eventsourcing.persistence import IntegrityError

from application.errors import Contention
from application.retries import MAX_ATTEMPTS, back_off

logger = logging.getLogger(__name__)

MAX_BATCH = 64
_STOP = object()

Item = TypeVar("Item")
Answer = TypeVar("Answer")


@dataclass
class _Waiting(Generic[Item, Answer]):
    item: Item
    outcome: Answer | BaseException | None = None
    done: threading.Event = field(default_factory=threading.Event)

    def settle(self, outcome: Answer | BaseException) -> None:
        self.outcome = outcome
        self.done.set()


DecideAndSave = Callable[[list[Item], bool], list[Answer | BaseException]]


class GroupCommit(Generic[Item, Answer]):
    """Hands each waiting item to `decide_and_save` in batches, in a thread of its own.

    `decide_and_save(batch, first_attempt)` answers each item in order, or raises the
    IntegrityError of a lost version race: the whole batch is then decided again.
    """

    def __init__(
        self,
        decide_and_save: DecideAndSave[Item, Answer],
        lock: AbstractContextManager[Any],
        max_batch: int = MAX_BATCH,
    ) -> None:
        self.decide_and_save = decide_and_save
        self.lock = lock
        self.max_batch = max_batch
        self._waiting: queue.SimpleQueue[_Waiting[Item, Answer] | object] = queue.SimpleQueue()
        self._thread: threading.Thread | None = None
        self._starting = threading.Lock()

    def submit(self, item: Item) -> Answer:
        self._ensure_running()
        waiting = _Waiting[Item, Answer](item)
        self._waiting.put(waiting)
        waiting.done.wait()
        if isinstance(waiting.outcome, BaseException):
            raise waiting.outcome
        assert waiting.outcome is not None
        return waiting.outcome

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
                self._commit(waiting)
            except BaseException as error:  # answer everyone, whatever went wrong
                logger.exception("group commit failed")
                for each in waiting:
                    if not each.done.is_set():
                        each.settle(error)

    def _commit(self, batch: list[_Waiting[Item, Answer]]) -> None:
        items = [waiting.item for waiting in batch]
        for attempt in range(MAX_ATTEMPTS):
            with self.lock:
                try:
                    outcomes = self.decide_and_save(items, attempt == 0)
                except IntegrityError:
                    back_off(attempt)
                    continue
            for waiting, outcome in zip(batch, outcomes, strict=True):
                waiting.settle(outcome)
            return
        for waiting in batch:
            waiting.settle(Contention())
