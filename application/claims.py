"""Claims: a worker takes the oldest pending generation, strictly FIFO, under a lease."""

from __future__ import annotations

import threading
from collections import deque
from typing import Any
from uuid import UUID

from application.endings import EndingUseCases
from application.errors import GenerationNotFound
from application.ports import QueueView
from application.queries import GenerationRecord
from application.retries import retry_on_conflict
from domain.generations import Generation

CLAIM_CANDIDATES = 10  # the oldest pending ids kept per process (docs/lifecycle.md, "Workers")
CLAIM_ROUNDS = 5  # read-model asks per claim before answering "none"


class ClaimUseCases(EndingUseCases):
    """POST /api/worker/claim, without the HTTP."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._claim_candidates: deque[UUID] = deque()
        self._claim_candidates_lock = threading.Lock()
        self._candidates_requeues = -1  # the queue's requeue count when the batch was read

    def claim(self, worker_id: str) -> GenerationRecord | None:
        """The oldest pending generation, now processing under `worker_id`'s lease; or None."""
        view = self._pending_view()
        for _ in range(CLAIM_ROUNDS):
            while (generation_id := self._next_candidate()) is not None:
                claimed = self._claim_one(generation_id, worker_id)
                if claimed is not None:
                    return GenerationRecord.of(claimed, None)
            requeues = self.load_queue().requeues  # before the read model (docs/lifecycle.md)
            candidates = view.oldest_pending(CLAIM_CANDIDATES)
            if not candidates:
                return None
            with self._claim_candidates_lock:
                self._claim_candidates.clear()
                self._claim_candidates.extend(candidates)
                self._candidates_requeues = requeues
        return None

    def _pending_view(self) -> QueueView:
        if self.queue_view is None:
            raise RuntimeError("This Atelier was built without a queue view: it cannot claim.")
        return self.queue_view

    def _batch_is_stale(self, requeues: int) -> bool:
        """A requeue since the batch was read may have put an older generation ahead of it."""
        with self._claim_candidates_lock:
            if requeues == self._candidates_requeues:
                return False
            self._claim_candidates.clear()
            return True

    def _next_candidate(self) -> UUID | None:
        with self._claim_candidates_lock:
            return self._claim_candidates.popleft() if self._claim_candidates else None

    def _claim_one(self, generation_id: UUID, worker_id: str) -> Generation | None:
        return retry_on_conflict(lambda: self._claim_if_pending(generation_id, worker_id))

    def _claim_if_pending(self, generation_id: UUID, worker_id: str) -> Generation | None:
        """One that waited past the pending time to live is expired instead, not handed out."""
        with self.queue_lock:
            queue = self.load_queue()  # before the generation (docs/lifecycle.md)
            if self._batch_is_stale(queue.requeues):
                return None
            try:
                generation, account = self.load_generation_and_account(generation_id)
            except GenerationNotFound:
                return None
            if not generation.is_pending:
                return None
            now = self.clock()
            if generation.waited_since(now - self.policy.pending_ttl):
                self._expire(generation, account, queue, now)
                return None
            generation.start(worker_id, now + self.policy.lease, now)
            queue.leave(generation.id, "claimed", now)
            self.save(generation, queue)
        return generation
