"""The Atelier application's shared machinery: construction, loading aggregates, the clock."""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping
from contextlib import AbstractContextManager
from typing import Any, ClassVar
from uuid import UUID

from eventsourcing.application import AggregateNotFoundError, Application, ProcessingEvent
from eventsourcing.domain import Aggregate
from eventsourcing.persistence import Recording

from application.errors import AccountNotFound, GenerationNotFound
from application.policy import Policy
from application.ports import Clock, ImageChecker, QueueView, system_clock
from application.saved_versions import SavedVersions
from application.telemetry import NO_TELEMETRY, Telemetry
from domain.accounts import TokenAccount
from domain.circuit import GeneratorCircuit
from domain.generations import Generation
from domain.identifiers import account_id, queue_id
from domain.queue import GenerationQueue

ACCOUNT_SNAPSHOT_INTERVAL = 100
QUEUE_SNAPSHOT_INTERVAL = 500
CIRCUIT_SNAPSHOT_INTERVAL = 100


class AtelierBase(Application[UUID]):
    """The Application the use-case mixins of `application.service.Atelier` share."""

    name = "Atelier"
    snapshotting_intervals: ClassVar[dict[type[Any], int]] = {
        TokenAccount: ACCOUNT_SNAPSHOT_INTERVAL,
        GenerationQueue: QUEUE_SNAPSHOT_INTERVAL,
        GeneratorCircuit: CIRCUIT_SNAPSHOT_INTERVAL,
    }

    def __init__(
        self,
        env: Mapping[str, str] | None = None,
        *,
        policy: Policy | None = None,
        clock: Clock = system_clock,
        image_checker: ImageChecker | None = None,
        queue_mutex: AbstractContextManager[Any] | None = None,
        queue_view: Callable[[AtelierBase], QueueView] | None = None,
        telemetry: Telemetry = NO_TELEMETRY,
    ) -> None:
        """`queue_view` builds the pending-queue view once the store exists; without it,
        claims are refused and sweeps find nothing. `telemetry` hears of admission batches."""
        super().__init__(env)
        self.telemetry = telemetry
        self.policy = policy or Policy()
        self.clock = clock
        self.image_checker = image_checker
        # Held by every queue writer from reading the queue to saving it (docs/architecture.md).
        self.queue_lock: AbstractContextManager[Any] = queue_mutex or threading.Lock()
        self.saved_versions = SavedVersions()
        self.queue_view = queue_view(self) if queue_view is not None else None
        # What the health check runs besides reading the store (SQLite: that it can write).
        self.store_check: Callable[[], None] | None = None

    def save(self, *objs: Any, **kwargs: Any) -> list[Recording[UUID]]:
        """The library's `save()`, leaner (docs/architecture.md, "Saving")."""
        processing = ProcessingEvent[UUID]()
        for obj in objs:
            if isinstance(obj, Aggregate):
                processing.events.extend(obj.collect_events())
                processing.aggregates[obj.id] = obj
            else:
                processing.collect_events(obj)
        processing.saved_kwargs.update(kwargs)
        recordings = self.events.put(
            processing.events, tracking=processing.tracking, **processing.saved_kwargs
        )
        self._snapshot_when_due(processing)
        for recording in recordings:
            event = recording.domain_event
            if isinstance(event, TokenAccount.Event):
                self.saved_versions.note(event.originator_id, event.originator_version)
        return recordings

    def _snapshot_when_due(self, processing: ProcessingEvent[UUID]) -> None:
        if self.snapshots is None:
            return
        first_new: dict[UUID, int] = {}
        for event in processing.events:
            first_new.setdefault(event.originator_id, event.originator_version)
        for aggregate_id, aggregate in processing.aggregates.items():
            interval = self.snapshotting_intervals.get(type(aggregate))
            first = first_new.get(aggregate_id)
            if (
                interval
                and first is not None
                and (aggregate.version // interval > (first - 1) // interval)
            ):
                snapshot_class = getattr(type(aggregate), "Snapshot", self.snapshot_class)
                assert snapshot_class is not None  # every Aggregate has a nested Snapshot
                self.snapshots.put([snapshot_class.take(aggregate)])

    def load_account(self, user_id: str) -> TokenAccount:
        try:
            account: TokenAccount = self.repository.get(account_id(user_id))
        except AggregateNotFoundError:
            raise AccountNotFound(user_id) from None
        return account

    def load_generation(self, generation_id: UUID, owner: str | None = None) -> Generation:
        """GenerationNotFound for an unknown id, or one not `owner`'s when an owner is given."""
        try:
            generation: object = self.repository.get(generation_id)
        except AggregateNotFoundError:
            raise GenerationNotFound from None
        if not isinstance(generation, Generation):
            raise GenerationNotFound
        if owner is not None and generation.user_id != owner:
            raise GenerationNotFound
        return generation

    def load_generation_and_account(
        self, generation_id: UUID, owner: str | None = None
    ) -> tuple[Generation, TokenAccount]:
        """`owner`, if given, must own it; the account is read first (docs/lifecycle.md)."""
        user_id = owner if owner is not None else self.load_generation(generation_id).user_id
        account = self.load_account(user_id)
        generation = self.load_generation(generation_id)
        if generation.user_id != user_id:
            raise GenerationNotFound
        return generation, account

    def load_queue(self) -> GenerationQueue:
        """A new, unsaved queue the first time anything is queued."""
        try:
            queue: GenerationQueue = self.repository.get(queue_id())
        except AggregateNotFoundError:
            return GenerationQueue()
        return queue

    def ping(self) -> int:
        """The last notification id; raises while the store cannot be read (or written)."""
        position = self.recorder.max_notification_id() or 0
        if self.store_check is not None:
            self.store_check()
        return position
