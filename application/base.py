"""The Atelier application's shared machinery: construction, loading aggregates, the clock."""

from __future__ import annotations

import threading
from collections.abc import Mapping
from typing import Any, ClassVar
from uuid import UUID

from eventsourcing.application import AggregateNotFoundError, Application

from application.errors import AccountNotFound
from application.policy import Policy
from application.ports import Clock, ImageChecker, system_clock
from domain.accounts import TokenAccount
from domain.identifiers import account_id, queue_id
from domain.queue import GenerationQueue

ACCOUNT_SNAPSHOT_INTERVAL = 100
QUEUE_SNAPSHOT_INTERVAL = 500


class AtelierBase(Application[UUID]):
    """An eventsourcing Application holding the policy, the clock and the outside-world ports.

    The use cases live in mixins (accounts, submissions, lifecycle), one concept per module;
    `application.service.Atelier` combines them.
    """

    name = "Atelier"
    snapshotting_intervals: ClassVar[dict[type[Any], int]] = {
        TokenAccount: ACCOUNT_SNAPSHOT_INTERVAL,
        GenerationQueue: QUEUE_SNAPSHOT_INTERVAL,
    }

    def __init__(
        self,
        env: Mapping[str, str] | None = None,
        *,
        policy: Policy | None = None,
        clock: Clock = system_clock,
        image_checker: ImageChecker | None = None,
    ) -> None:
        super().__init__(env)
        self.policy = policy or Policy()
        self.clock = clock
        self.image_checker = image_checker
        # Every write of the queue aggregate in this process takes this lock, so threads of one
        # process never lose version races to each other; other processes are caught by the
        # version check and retried.
        self.queue_lock = threading.Lock()

    def load_account(self, user_id: str) -> TokenAccount:
        try:
            account: TokenAccount = self.repository.get(account_id(user_id))
        except AggregateNotFoundError:
            raise AccountNotFound(user_id) from None
        return account

    def load_queue(self) -> GenerationQueue:
        """The queue aggregate; a new, unsaved one the first time anything is queued."""
        try:
            queue: GenerationQueue = self.repository.get(queue_id())
        except AggregateNotFoundError:
            return GenerationQueue()
        return queue

    def ping(self) -> int:
        """The position of the newest event: proves the event store answers."""
        return self.recorder.max_notification_id() or 0
