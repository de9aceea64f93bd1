"""A batch folds its events to exactly what applying them one by one gives, however the events
fall into batches, even when clocks of different processes disagree (rate-limit pruning)."""

from __future__ import annotations

import random
from datetime import timedelta
from types import SimpleNamespace
from uuid import uuid4

from domain.accounts import RATE_WINDOW
from infrastructure.projections.rate_limits import RateLimitProjection
from infrastructure.projections.sql import micros
from tests.conftest import SettingsFactory
from tests.support.clock import T0, Clock
from tests.support.read_side import application


def test_rate_limit_pruning_is_the_same_in_any_batching(make_settings: SettingsFactory) -> None:
    rng = random.Random(4)
    accounts = [uuid4() for _ in range(3)]
    at, events = T0, []
    for _ in range(120):
        # Mostly forward, sometimes back: another process's clock, or a step across the hour.
        at += timedelta(minutes=rng.choice([1, 7, 23, 50, -3, -70]))
        event = SimpleNamespace(
            originator_id=rng.choice(accounts), generation_id=str(uuid4()), at=at
        )
        events.append(event)

    # What the account aggregate keeps: each acceptance drops those at or before it - 1 hour.
    kept: dict[str, list[tuple[str, int]]] = {}
    for event in events:
        window = kept.setdefault(str(event.originator_id), [])
        cutoff = micros(event.at - RATE_WINDOW)
        window[:] = [(g, t) for g, t in window if t > cutoff] + [
            (event.generation_id, micros(event.at))
        ]
    expected = sorted(
        ((account, g, t) for account, window in kept.items() for g, t in window), key=repr
    )

    with application(make_settings(), Clock()) as (_, models):
        view = models.views["rate_limits"]
        projection = view.projection
        assert isinstance(projection, RateLimitProjection)
        topic = projection.topics[0]
        for batch_size in (1, 2, 7, 50, len(events)):
            view.reset()
            position = 0
            for start in range(0, len(events), batch_size):
                batch = events[start : start + batch_size]
                items = [(topic, e, position + n + 1) for n, e in enumerate(batch)]
                view.commit(projection.writes_for(items), position, position + len(batch))
                position += len(batch)
            assert view.contents()["rate_limit_acceptances"] == expected, batch_size
