"""What the read-side tests share: an application with a clock the test moves, its read models,
lifecycle moves made with the aggregates' own methods, and counts taken from the event log.

Lifecycle moves (start, complete, fail, cancel, expire) call the domain methods and save the
aggregates together, as the lifecycle use cases do, so these tests depend only on the domain.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from uuid import UUID

from starlette.testclient import TestClient

from application.service import Atelier
from domain.results import ResultImage
from infrastructure.bootstrap import build_application, build_read_models
from infrastructure.projections.catch_up import catch_up
from infrastructure.projections.read_models import ReadModels
from infrastructure.settings import Settings
from tests.support.clock import Clock
from tests.support.lifecycle import generation as generation_of
from web.asgi import app_from_settings

LEASE = timedelta(minutes=10)


@contextmanager
def application(settings: Settings, clock: Clock) -> Iterator[tuple[Atelier, ReadModels]]:
    """An Atelier on the settings' store with `clock`, and its read models (no runner: tests
    decide when views catch up)."""
    atelier = build_application(settings, clock=clock)
    models = build_read_models(settings, atelier)
    assert models is not None
    try:
        yield atelier, models
    finally:
        atelier.close()


def catch_up_all(atelier: Atelier, models: ReadModels, batch_size: int = 1000) -> int:
    return sum(catch_up(atelier, view, batch_size) for view in models.views.values())


def start(atelier: Atelier, generation_id: UUID, lease: timedelta = LEASE) -> None:
    now = atelier.clock()
    generation = generation_of(atelier, generation_id)
    generation.start("worker-1", now + lease, now)
    queue = atelier.load_queue()
    queue.leave(generation.id, "claimed", now)
    atelier.save(generation, queue)


def complete(atelier: Atelier, generation_id: UUID) -> None:
    now = atelier.clock()
    generation = generation_of(atelier, generation_id)
    result = ResultImage.of_url(f"https://cdn.example/{generation_id}.png")
    generation.complete("worker-1", [result], now)
    account = atelier.load_account(generation.user_id)
    account.capture(generation.id, now)
    atelier.save(generation, account)


def fail(atelier: Atelier, generation_id: UUID, reason: str = "model error") -> None:
    now = atelier.clock()
    generation = generation_of(atelier, generation_id)
    generation.fail("worker-1", reason, now)
    account = atelier.load_account(generation.user_id)
    account.release(generation.id, now)
    atelier.save(generation, account)


def cancel(atelier: Atelier, generation_id: UUID) -> None:
    _end_pending(atelier, generation_id, "cancelled")


def expire(atelier: Atelier, generation_id: UUID) -> None:
    _end_pending(atelier, generation_id, "expired")


def _end_pending(atelier: Atelier, generation_id: UUID, how: str) -> None:
    now = atelier.clock()
    generation = generation_of(atelier, generation_id)
    if how == "cancelled":
        generation.cancel(now)
    else:
        generation.expire(now)
    account = atelier.load_account(generation.user_id)
    account.release(generation.id, now)
    queue = atelier.load_queue()
    queue.leave(generation.id, how, now)
    atelier.save(generation, account, queue)


def event_counts(atelier: Atelier) -> Counter[str]:
    """How many events of each type the log holds (by event class name)."""
    counts: Counter[str] = Counter()
    position = 0
    while True:
        page = atelier.recorder.select_notifications(
            start=position, limit=1000, inclusive_of_start=False
        )
        if not page:
            return counts
        counts.update(note.topic.rsplit(".", 1)[-1] for note in page)
        position = page[-1].id


def generation_statuses(atelier: Atelier) -> Counter[str]:
    """Each generation's status, replayed from the log's events alone."""
    final = {
        "GenerationRequested": "pending",
        "GenerationStarted": "processing",
        "GenerationCompleted": "completed",
        "GenerationFailed": "failed",
        "GenerationCancelled": "cancelled",
        "GenerationExpired": "expired",
    }
    status: dict[object, str] = {}
    for note in atelier.recorder.select_notifications(start=None, limit=10_000_000):
        name = note.topic.rsplit(".", 1)[-1]
        if name in final:
            status[note.originator_id] = final[name]
    return Counter(status.values())


@contextmanager
def serving(settings: Settings) -> Iterator[TestClient]:
    """The HTTP app on the settings' store, lifespan included (so its projection runner runs)."""
    with TestClient(app_from_settings(settings), raise_server_exceptions=False) as client:
        yield client
