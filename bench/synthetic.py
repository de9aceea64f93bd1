"""A large, clean, realistic Atelier history, written straight into an event store.

The benches need a million events; pushing them through the HTTP layer or even the use cases
would take many minutes and measure something else. So this module drives the real domain
aggregates (TokenAccount, Generation, GenerationQueue) with a simulated clock, collects the
events they trigger, maps them with the application's own mapper and appends them to the
application's recorder in large batches. The stored records are exactly what the application
itself would write: same topics, same payloads, one contiguous run of events per decision,
every rule (tokens, rolling hour, queue capacity, legal transitions) respected.

Only the live aggregates are kept in memory (accounts, and generations still pending or
processing), so writing a million events costs as much memory as writing a thousand.
"""

from __future__ import annotations

import random
from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID, uuid4

from eventsourcing.application import Application
from eventsourcing.domain import Aggregate

from domain.accounts import TokenAccount
from domain.errors import DomainError
from domain.generations import Generation
from domain.images import link_images
from domain.pricing import token_cost
from domain.queue import GenerationQueue
from domain.requests import GenerationRequest
from domain.results import ResultImage

START = datetime(2026, 1, 1, tzinfo=UTC)
QUALITIES = ("standard", "standard", "high", "ultra")
PRODUCT = "https://res.cloudinary.com/demo/image/upload/c_fill,w_400,h_600/v1699/shirts/s{}.jpg"
MODEL = "https://res.cloudinary.com/demo/image/upload/models/m{}.png"


@dataclass
class HistoryShape:
    """How the simulated service behaves: users, limits, and what becomes of generations."""

    users: int = 2_000
    opening_tokens: int = 50
    hourly_limit: int = 10
    queue_capacity: int = 50
    seconds_between: float = 4.0  # mean simulated time between two submissions
    grant_every: int = 7  # one grant per this many submissions
    seed: int = 6


class Simulation:
    """The service's aggregates over simulated time: users submit, workers drain the queue."""

    def __init__(self, shape: HistoryShape) -> None:
        self.shape = shape
        self.rng = random.Random(shape.seed)
        self.clock = START
        self.queue = GenerationQueue()
        self.pending: deque[Generation] = deque()
        self.processing: deque[Generation] = deque()
        self.accounts: dict[str, TokenAccount] = {}
        self.submissions = 0

    def open_accounts(self) -> Iterator[list[Aggregate.Event]]:
        for number in range(self.shape.users):
            account = TokenAccount.open(f"user-{number:06d}", self.shape.opening_tokens, self.clock)
            self.accounts[account.user_id] = account
            yield list(account.collect_events())

    def finish_one(self) -> list[Aggregate.Event]:
        """A worker completes (85%) or fails the generation it has run longest."""
        generation = self.processing.popleft()
        account = self.accounts[generation.user_id]
        if self.rng.random() < 0.85:
            result = f"https://cdn.example/{generation.id}.png"
            generation.complete("worker-1", [ResultImage.of_url(result)], self.clock)
            account.capture(generation.id, self.clock)
        else:
            generation.fail("worker-1", "model error", self.clock)
            account.release(generation.id, self.clock)
        return [*generation.collect_events(), *account.collect_events()]

    def take_oldest(self) -> list[Aggregate.Event]:
        """The oldest pending is claimed (90%), cancelled by its owner, or expires."""
        generation = self.pending.popleft()
        roll = self.rng.random()
        if roll < 0.9:
            generation.start("worker-1", self.clock + timedelta(minutes=10), self.clock)
            self.processing.append(generation)
            self.queue.leave(generation.id, "claimed", self.clock)
            return [*generation.collect_events(), *self.queue.collect_events()]
        account = self.accounts[generation.user_id]
        if roll < 0.95:
            generation.cancel(self.clock)
            self.queue.leave(generation.id, "cancelled", self.clock)
        else:
            generation.expire(self.clock)
            self.queue.leave(generation.id, "expired", self.clock)
        account.release(generation.id, self.clock)
        return [
            *generation.collect_events(),
            *account.collect_events(),
            *self.queue.collect_events(),
        ]

    def user_acts(self) -> list[Aggregate.Event]:
        """A random user submits (and now and then is granted tokens first)."""
        users = list(self.accounts)
        account = self.accounts[users[self.rng.randrange(len(users))]]
        self.submissions += 1
        batch: list[Aggregate.Event] = []
        if self.submissions % self.shape.grant_every == 0:
            account.grant(self.rng.randint(1, 20), "top-up", self.clock)
            batch += account.collect_events()
        generation = submit(self.rng, account, self.queue, self.shape, self.clock)
        if generation is not None:
            self.pending.append(generation)
            batch += [
                *account.collect_events(),
                *generation.collect_events(),
                *self.queue.collect_events(),
            ]
        return batch

    def step(self) -> Iterator[list[Aggregate.Event]]:
        """What happens before the next submission: each decision's events, one save each."""
        self.clock += timedelta(seconds=self.rng.expovariate(1 / self.shape.seconds_between))
        if self.processing and self.rng.random() < 0.9:
            yield self.finish_one()
        if self.pending and self.rng.random() < 0.9:
            yield self.take_oldest()
        yield self.user_acts()


def histories(shape: HistoryShape, events: int) -> Iterator[list[Aggregate.Event]]:
    """The events of one decision (one save) at a time, until at least `events` were made."""
    simulation = Simulation(shape)
    made = 0
    for batch in simulation.open_accounts():
        made += len(batch)
        yield batch
    while made < events:
        for batch in simulation.step():
            if batch:
                made += len(batch)
                yield batch


def submit(
    rng: random.Random,
    account: TokenAccount,
    queue: GenerationQueue,
    shape: HistoryShape,
    clock: datetime,
) -> Generation | None:
    """What submit_generation decides, on the aggregates alone; None when refused."""
    quality = QUALITIES[rng.randrange(len(QUALITIES))]
    first = rng.randrange(10_000)
    products = tuple(PRODUCT.format(first + n) for n in range(rng.randint(1, 2)))
    models = (MODEL.format(rng.randrange(100)),) if rng.random() < 0.3 else ()
    request = GenerationRequest(
        product_images=products,
        model_images=models,
        style="realistic",
        aspect_ratio="1:1",
        quality=quality,
        model="gpt-4.1-dalle-3",
    )
    cost = token_cost(quality)
    generation_id: UUID = uuid4()
    if queue.pending >= shape.queue_capacity:
        return None  # QUEUE_FULL: decided before anything is triggered
    try:
        account.reserve(generation_id, cost, clock, shape.hourly_limit)
    except DomainError:
        return None  # RATE_LIMIT_EXCEEDED or INSUFFICIENT_TOKENS: nothing was triggered
    position = queue.admit(generation_id, shape.queue_capacity, clock)
    images = link_images(request.product_images, request.model_images)
    return Generation.request(
        generation_id,
        account.user_id,
        request,
        None,
        "prompt",
        cost,
        position,
        images,
        clock,
        request_id=uuid4().hex,  # as the service records every HTTP submission's X-Request-ID
    )


def write_history(
    app: Application[Any], shape: HistoryShape, events: int, batch_size: int = 1_000
) -> int:
    """Append at least `events` events to `app`'s store; returns how many were written.

    Batches stay small: psycopg pipelines an insert's rows, and a batch of tens of thousands
    can stall with client and server each waiting for the other to read.
    """
    written = 0
    stored = []
    for decision in histories(shape, events):
        stored += [app.mapper.to_stored_event(event) for event in decision]
        if len(stored) >= batch_size:
            app.recorder.insert_events(stored)
            written += len(stored)
            stored = []
    if stored:
        app.recorder.insert_events(stored)
        written += len(stored)
    return written
