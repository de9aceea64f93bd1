"""Optimistic concurrency: decide from fresh state, save, and on a lost version race, again."""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from typing import TypeVar

from eventsourcing.persistence import IntegrityError

from application.errors import Contention

T = TypeVar("T")

MAX_ATTEMPTS = 40
BASE_DELAY_SECONDS = 0.002
MAX_DELAY_SECONDS = 0.05


def retry_on_conflict(decide_and_save: Callable[[], T], attempts: int = MAX_ATTEMPTS) -> T:
    """`decide_and_save` must load what it decides on, so a retry sees what the winner wrote."""
    for attempt in range(attempts):
        try:
            return decide_and_save()
        except IntegrityError:
            back_off(attempt)
    raise Contention


def back_off(attempt: int) -> None:
    """Exponential backoff with full jitter, so racers spread out."""
    ceiling = min(MAX_DELAY_SECONDS, BASE_DELAY_SECONDS * 2**attempt)
    time.sleep(random.uniform(0, ceiling))  # noqa: S311 - jitter, not a secret
