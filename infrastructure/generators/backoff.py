"""Capped, jittered exponential backoff that honours Retry-After and never runs past the lease."""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from application.ports import system_clock

MAX_ATTEMPTS = 4
BASE_SECONDS = 2.0
MAX_SECONDS = 30.0


class Retryable(Exception):
    """One attempt failed in a way worth trying again; `problem` is fit for the owner."""

    def __init__(self, problem: str, retry_after: float | None = None) -> None:
        super().__init__(problem)
        self.problem = problem
        self.retry_after = retry_after


@dataclass(frozen=True)
class Backoff:
    max_attempts: int = MAX_ATTEMPTS
    base_seconds: float = BASE_SECONDS
    max_seconds: float = MAX_SECONDS
    clock: Callable[[], datetime] = system_clock

    def delay(self, attempt: int, retry_after: float | None) -> float:
        """After failed attempt `attempt` (1-based): jittered within the ceiling, at least what
        Retry-After asks, never over the maximum."""
        ceiling = min(self.max_seconds, self.base_seconds * 2 ** (attempt - 1))
        delay = random.uniform(ceiling / 2, ceiling)  # noqa: S311 - jitter, not a secret
        if retry_after is not None:
            delay = max(delay, retry_after)
        return min(delay, self.max_seconds)

    def fits(self, delay: float, lease_expires_at: datetime) -> bool:
        return self.clock() + timedelta(seconds=delay) < lease_expires_at


def retry_after_seconds(value: str | None) -> float | None:
    try:
        return max(0.0, float(value or ""))
    except ValueError:
        return None
