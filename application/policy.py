"""The limits the use cases enforce, as plain values the infrastructure reads from settings."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta

DEFAULT_BANNED_WORDS = ("explicit", "violent", "harmful")


@dataclass(frozen=True)
class Policy:
    """Everything configurable about what the service accepts and how long things last."""

    hourly_limit: int | None = 10  # None: rate limiting is off
    queue_capacity: int = 50
    banned_words: tuple[str, ...] = DEFAULT_BANNED_WORDS
    cloud_names: frozenset[str] = field(default_factory=frozenset)  # empty: any cloud
    generation_enabled: bool = True
    idempotency_ttl: timedelta = timedelta(days=1)
    lease: timedelta = timedelta(minutes=10)
    pending_ttl: timedelta = timedelta(hours=1)
    queue_full_retry_after_seconds: int = 30
