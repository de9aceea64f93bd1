"""Group commit for submissions: one thread per process decides waiting submissions in batches
and saves each batch in one transaction.

Every submission writes the queue aggregate, so submissions are serial by nature: deciding them
one transaction at a time pays one commit (an fsync on SQLite, a round trip and a table lock on
PostgreSQL) per submission, with the queue locked meanwhile. Here request threads hand their
already-validated submission to the desk and wait; the desk takes everything that is waiting,
decides each in order on the same in-memory aggregates (so two submissions of one user in one
batch see each other), and saves every account, generation and the queue together. The rules
are exactly those of one-at-a-time admission: each decision is made by the aggregates, and a
batch that loses a version race to another process is decided again from fresh state, every
submission in it, before anyone is answered.
"""

from __future__ import annotations

import logging
import queue
import random
import threading
import time
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING
from uuid import UUID, uuid4

from eventsourcing.persistence import IntegrityError

from application.errors import Contention
from application.idempotency import IdempotencyKey
from application.retries import BASE_DELAY_SECONDS, MAX_ATTEMPTS, MAX_DELAY_SECONDS
from application.views import RateLimitStatus, Receipt
from domain.accounts import TokenAccount
from domain.errors import DomainError
from domain.generations import Generation
from domain.images import LinkedImage
from domain.pricing import estimated_time
from domain.queue import GenerationQueue
from domain.requests import GenerationRequest

if TYPE_CHECKING:
    from application.base import AtelierBase

logger = logging.getLogger(__name__)

MAX_BATCH = 64
_STOP = object()


@dataclass
class Admission:
    """A submission that passed every check that needs no shared state, waiting for its batch."""

    user_id: str
    account: TokenAccount  # loaded by the request thread, fresh as of the request
    request: GenerationRequest
    key: IdempotencyKey | None
    custom_prompt: str | None
    prompt: str
    cost: int
    images: list[LinkedImage]
    outcome: Receipt | BaseException | None = None
    done: threading.Event = field(default_factory=threading.Event)

    def settle(self, outcome: Receipt | BaseException) -> None:
        self.outcome = outcome
        self.done.set()


@dataclass
class _Decisions:
    """One attempt at a batch: the aggregates it changed and what each submission gets."""

    queue: GenerationQueue
    accounts: dict[str, TokenAccount] = field(default_factory=dict)
    generations: dict[UUID, Generation] = field(default_factory=dict)
    outcomes: list[tuple[Admission, Receipt | BaseException]] = field(default_factory=list)


class AdmissionDesk:
    """Decides and saves submissions in batches, in a thread of its own."""

    def __init__(self, app: AtelierBase, max_batch: int = MAX_BATCH) -> None:
        self.app = app
        self.max_batch = max_batch
        self._waiting: queue.SimpleQueue[Admission | object] = queue.SimpleQueue()
        self._thread: threading.Thread | None = None
        self._starting = threading.Lock()

    def admit(self, admission: Admission) -> Receipt:
        """Decide `admission` in the next batch; its receipt, or the domain error refusing it."""
        self._ensure_running()
        self._waiting.put(admission)
        admission.done.wait()
        if isinstance(admission.outcome, BaseException):
            raise admission.outcome
        assert admission.outcome is not None
        return admission.outcome

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
                self._thread = threading.Thread(
                    target=self._run, name="admission-desk", daemon=True
                )
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
            admissions = [a for a in batch if isinstance(a, Admission)]
            try:
                self._settle(admissions)
            except BaseException as error:  # answer everyone, whatever went wrong
                logger.exception("admission batch failed")
                for admission in admissions:
                    if not admission.done.is_set():
                        admission.settle(error)

    def _settle(self, batch: list[Admission]) -> None:
        """Decide and save the batch, again from fresh state after each lost version race."""
        for attempt in range(MAX_ATTEMPTS):
            with self.app.queue_lock:
                decisions = self._decide(batch, trust_loaded=attempt == 0)
                try:
                    if decisions.generations:  # all refused or replayed: nothing to write
                        self.app.save(
                            *decisions.accounts.values(),
                            *decisions.generations.values(),
                            decisions.queue,
                        )
                except IntegrityError:
                    ceiling = min(MAX_DELAY_SECONDS, BASE_DELAY_SECONDS * 2**attempt)
                    time.sleep(random.uniform(0, ceiling))  # noqa: S311 - jitter
                    continue
            for admission, outcome in decisions.outcomes:
                admission.settle(outcome)
            return
        for admission in batch:
            admission.settle(Contention())

    def _decide(self, batch: list[Admission], trust_loaded: bool) -> _Decisions:
        """Decide every admission in order. On a first attempt each account the request thread
        loaded is used unless this process saved a newer one since; after a lost race every
        account is read again."""
        app = self.app
        decisions = _Decisions(queue=app.load_queue())
        for admission in batch:
            now = app.clock()
            outcome: Receipt | DomainError
            try:
                account = decisions.accounts.get(admission.user_id)
                if account is None:
                    account = admission.account
                    if not trust_loaded or account.version < app.saved_versions.newest(account.id):
                        account = app.load_account(admission.user_id)
                    decisions.accounts[admission.user_id] = account
                outcome = self._replay(account, admission, decisions, now) or self._accept(
                    account, admission, decisions, now
                )
            except DomainError as refusal:
                outcome = refusal
            decisions.outcomes.append((admission, outcome))
        return decisions

    def _accept(
        self, account: TokenAccount, admission: Admission, decisions: _Decisions, now: datetime
    ) -> Receipt:
        """Reserve, queue and record, after checking every rule in the contract's order, so a
        refusal leaves the batch's aggregates untouched."""
        policy = self.app.policy
        account.check_admission(admission.cost, now, policy.hourly_limit)
        decisions.queue.check_room(policy.queue_capacity)
        generation_id = uuid4()
        key = admission.key
        remember = key.remembered_until(now, policy.idempotency_ttl) if key else None
        account.reserve(generation_id, admission.cost, now, policy.hourly_limit, remember)
        position = decisions.queue.admit(generation_id, policy.queue_capacity, now)
        decisions.generations[generation_id] = Generation.request(
            generation_id,
            admission.user_id,
            admission.request,
            admission.custom_prompt,
            admission.prompt,
            admission.cost,
            position,
            admission.images,
            now,
        )
        return Receipt(
            generation_id=generation_id,
            status="pending",
            token_cost=admission.cost,
            estimated_time=estimated_time(admission.request.quality),
            queue_position=position,
            replayed=False,
            rate_limit=RateLimitStatus.of(account, policy.hourly_limit, now),
        )

    def _replay(
        self, account: TokenAccount, admission: Admission, decisions: _Decisions, now: datetime
    ) -> Receipt | None:
        """The original receipt when this key already admitted this request (perhaps earlier
        in this very batch), None when the key is new."""
        key = admission.key
        if key is None:
            return None
        answer = account.recall("generate", key.key, key.fingerprint, now)
        if answer is None:
            return None
        generation_id = UUID(answer)
        generation = decisions.generations.get(generation_id)
        if generation is None:
            generation = self.app.repository.get(generation_id)
        assert isinstance(generation, Generation)
        return replayed_receipt(generation, account, self.app.policy.hourly_limit, now)


def replayed_receipt(
    generation: Generation, account: TokenAccount, hourly_limit: int | None, now: datetime
) -> Receipt:
    """The original 201 of an idempotently replayed submission."""
    return Receipt(
        generation_id=generation.id,
        status="pending",  # what the original 201 said
        token_cost=generation.token_cost,
        estimated_time=estimated_time(generation.quality),
        queue_position=generation.queue_position,
        replayed=True,
        rate_limit=RateLimitStatus.of(account, hourly_limit, now),
    )
