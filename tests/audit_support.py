"""Histories for the audit's tests, told with the real aggregates, plus events a test forges.

A `Story` drives TokenAccount, Generation and GenerationQueue the way the use cases do (one
save per decision, account then generation then queue) and keeps the stored events in order.
`forge` appends an event no rule would allow, built by hand, exactly as a bug, a hand edit or a
bad migration would leave it in the store. A story is then either turned into notifications in
memory (unit tests) or appended straight to a real store through its recorder, bypassing the
application (integration tests).
"""

from __future__ import annotations

import multiprocessing
import time
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID, uuid4

import pytest
from eventsourcing import domain
from eventsourcing.domain import Aggregate
from eventsourcing.persistence import Mapper, StoredEvent
from eventsourcing.utils import get_topic

from application.audit.reading import EventDecoder, LoggedEvent
from application.audit.replay import Replay
from application.audit.report import AuditReport
from application.audit.session import ReplayObserver
from application.service import Atelier
from domain.accounts import TokenAccount
from domain.generations import Generation
from domain.images import link_images
from domain.pricing import token_cost
from domain.queue import GenerationQueue
from domain.requests import GenerationRequest
from domain.results import ResultImage
from infrastructure.audit.log_reader import LogInChild

T0 = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)
PRODUCT = "https://res.cloudinary.com/demo/image/upload/c_fill,w_400,h_600/v1699/shirts/a.jpg"


class Sketch(Aggregate):
    """An aggregate the audit does not answer for (application/audit/registry.py)."""

    @domain.event("Drawn")
    def draw(self, lines: int) -> None:
        self.lines = lines


def sketched() -> Sketch:
    sketch = Sketch()
    sketch.draw(3)
    return sketch


class Story:
    """A history in the making; positions are 1-based indexes into `stored`."""

    def __init__(self, mapper: Mapper[Any]) -> None:
        self.mapper = mapper
        self.stored: list[StoredEvent] = []
        self.clock = T0
        self.queue = GenerationQueue()
        self.accounts: dict[str, TokenAccount] = {}
        self.owners: dict[UUID, TokenAccount] = {}
        self.reserved_at: dict[UUID, int] = {}  # generation -> position of its reservation
        self.requested_at: dict[UUID, int] = {}  # generation -> position of its request

    # ---- what the use cases do ---------------------------------------------------------

    def save(self, *aggregates: Aggregate) -> list[int]:
        """Append every pending event of `aggregates`, in order; their positions."""
        positions = []
        for aggregate in aggregates:
            for event in aggregate.collect_events():
                self.stored.append(self.mapper.to_stored_event(event))
                positions.append(len(self.stored))
        return positions

    def open(self, user_id: str, tokens: int = 10) -> TokenAccount:
        account = TokenAccount.open(user_id, tokens, self.clock)
        self.accounts[user_id] = account
        self.save(account)
        return account

    def grant(self, user_id: str, amount: int) -> int:
        account = self.accounts[user_id]
        account.grant(amount, "top-up", self.clock)
        return self.save(account)[0]

    def submit(
        self,
        user_id: str,
        quality: str = "standard",
        minutes_later: float = 1.0,
        request_id: str | None = "",
        hourly_limit: int | None = None,
        queue_capacity: int | None = None,
    ) -> Generation:
        """Reserve, queue and request, with no rate or capacity rule (the audit checks those).

        Each request has an id of its own unless `request_id` is given (None: made by no request).
        `hourly_limit` and `queue_capacity` are the limits recorded with its events (None: none
        recorded, as before they were, so the audit judges by its own; 0 hourly: no limit).
        """
        self.clock += timedelta(minutes=minutes_later)
        account = self.accounts[user_id]
        request = GenerationRequest(
            product_images=(PRODUCT,),
            style="realistic",
            aspect_ratio="1:1",
            quality=quality,
            model="gpt-4.1-dalle-3",
        )
        generation_id = uuid4()
        cost = token_cost(quality)
        account.reserve(generation_id, cost, self.clock, hourly_limit=None)
        position = self.queue.admit(generation_id, capacity=1_000_000, at=self.clock)
        generation = Generation.request(
            generation_id,
            user_id,
            request,
            None,
            "prompt",
            cost,
            position,
            link_images(request.product_images, request.model_images),
            self.clock,
            request_id=uuid4().hex if request_id == "" else request_id,
        )
        reserved, requested = account.pending_events[-1], generation.pending_events[0]
        object.__setattr__(reserved, "hourly_limit", hourly_limit)  # events are frozen
        object.__setattr__(requested, "queue_capacity", queue_capacity)
        self.owners[generation.id] = account
        positions = self.save(account, generation, self.queue)
        self.reserved_at[generation.id], self.requested_at[generation.id] = positions[:2]
        return generation

    def claim(self, generation: Generation) -> list[int]:
        generation.start("worker-1", self.clock + timedelta(minutes=10), self.clock)
        self.queue.leave(generation.id, "claimed", self.clock)
        return self.save(generation, self.queue)

    def complete(self, generation: Generation) -> list[int]:
        account = self.owners[generation.id]
        generation.complete(
            "worker-1", [ResultImage.of_url("https://cdn.example/result.png")], self.clock
        )
        account.capture(generation.id, self.clock)
        return self.save(generation, account)

    def fail(self, generation: Generation) -> list[int]:
        account = self.owners[generation.id]
        generation.fail("worker-1", "model error", self.clock)
        account.release(generation.id, self.clock)
        return self.save(generation, account)

    def cancel(self, generation: Generation) -> list[int]:
        account = self.owners[generation.id]
        generation.cancel(self.clock)
        account.release(generation.id, self.clock)
        self.queue.leave(generation.id, "cancelled", self.clock)
        return self.save(generation, account, self.queue)

    def expire(self, generation: Generation) -> list[int]:
        account = self.owners[generation.id]
        generation.expire(self.clock)
        account.release(generation.id, self.clock)
        self.queue.leave(generation.id, "expired", self.clock)
        return self.save(generation, account, self.queue)

    def mixed(self) -> dict[str, Generation]:
        """A clean history with every kind of event and every end state (two users)."""
        self.open("alice", 10)
        self.open("bob", 5)
        self.grant("alice", 4)
        done = self.submit("alice", "high")
        self.claim(done)
        self.complete(done)
        failed = self.submit("bob")
        self.claim(failed)
        self.fail(failed)
        cancelled = self.submit("alice")
        self.cancel(cancelled)
        expired = self.submit("bob", "ultra")
        self.expire(expired)
        running = self.submit("alice")
        self.claim(running)
        waiting = self.submit("bob")
        bob = self.accounts["bob"]
        bob.disable("abuse", self.clock)
        bob.enable(self.clock)
        self.save(bob)
        return {
            "completed": done,
            "failed": failed,
            "cancelled": cancelled,
            "expired": expired,
            "processing": running,
            "pending": waiting,
        }

    # ---- what no rule allows -----------------------------------------------------------

    def forge(self, event_class: type[Any], aggregate: Aggregate, **fields: Any) -> int:
        """Append an event of `aggregate`'s at its next version, built by hand; its position.

        The aggregate object itself is left as it was, but its version is moved on, so the
        story can go on using it.
        """
        version = aggregate.version + 1
        event = event_class(
            originator_id=aggregate.id, originator_version=version, timestamp=self.clock, **fields
        )
        self.stored.append(self.mapper.to_stored_event(event))
        aggregate.version = version  # the story can go on using the aggregate
        return len(self.stored)

    def forge_request(
        self, user_id: str, cost: int = 1, generation_id: UUID | None = None
    ) -> tuple[UUID, int]:
        """Append a GenerationRequested by hand (no reservation, no queue); id and position."""
        generation_id = generation_id or uuid4()
        event = Generation.GenerationRequested(
            originator_id=generation_id,
            originator_version=1,
            timestamp=self.clock,
            originator_topic=get_topic(Generation),
            user_id=user_id,
            product_images=[PRODUCT],
            model_images=[],
            style="realistic",
            aspect_ratio="1:1",
            quality="standard",
            model="gpt-4.1-dalle-3",
            custom_prompt=None,
            parameters={},
            prompt="prompt",
            token_cost=cost,
            queue_position=1,
            requested_at=self.clock,
            request_id=None,
            queue_capacity=None,
        )
        self.stored.append(self.mapper.to_stored_event(event))
        return generation_id, len(self.stored)

    def forge_reservation(self, user_id: str, generation_id: UUID, amount: int = 1) -> int:
        """Append a TokensReserved by hand (no rule checked); its position."""
        return self.forge(
            TokenAccount.TokensReserved,
            self.accounts[user_id],
            generation_id=str(generation_id),
            amount=amount,
            at=self.clock,
            idempotency=None,
            hourly_limit=None,
        )

    def append_raw(self, originator_id: UUID, version: int, topic: str, state: bytes) -> int:
        """Append a stored record exactly as given (an unknown topic, a broken payload)."""
        self.stored.append(StoredEvent(originator_id, version, topic, state))
        return len(self.stored)

    # ---- reading it back ---------------------------------------------------------------

    def notifications(self) -> list[LoggedEvent]:
        """The story as the audit reads a log."""
        return [
            LoggedEvent(
                position,
                record.originator_id.int,
                record.originator_version,
                record.topic,
                record.state,
            )
            for position, record in enumerate(self.stored, start=1)
        ]

    def audit(
        self,
        hourly_limit: int | None = 10,
        queue_capacity: int = 50,
        observers: tuple[ReplayObserver, ...] = (),
    ) -> AuditReport:
        """Replay the story in memory, as `atelier audit` replays a store."""
        replay = Replay(EventDecoder(self.mapper), hourly_limit, queue_capacity, observers)
        notes = self.notifications()
        replay.apply_all(notes)
        if notes:
            replay.note_positions(notes[0].id, notes[-1].id)
        return replay.finish()

    def write_to(self, atelier: Atelier) -> list[int]:
        """Append the story to a real store, bypassing the application; the positions given."""
        ids = atelier.recorder.insert_events(self.stored)
        return list(ids or [])


def memory_story() -> Story:
    """A story whose events are mapped as the application maps them."""
    return Story(Atelier(env={"PERSISTENCE_MODULE": "eventsourcing.popo"}).mapper)


def found(report: AuditReport, rule: str) -> list[tuple[int, ...]]:
    """The positions of each violation of `rule` in the report."""
    return [v.positions for v in report.violations.kept if v.rule == rule]


def wait_until_ready(reader: LogInChild) -> None:
    """Until the audit's log child reads for it (it starts an interpreter first)."""
    deadline = time.monotonic() + 60
    while not reader._child_ready():
        assert reader._connection is not None, "the child gave up"
        assert time.monotonic() < deadline, "the child never became ready"
        time.sleep(0.05)


def refuse_to_start_processes(monkeypatch: pytest.MonkeyPatch) -> None:
    """As on a machine out of processes: the audit's children cannot start."""

    def refuse(process: object) -> None:
        raise OSError("no more processes")

    monkeypatch.setattr(multiprocessing.get_context("spawn").Process, "start", refuse)
