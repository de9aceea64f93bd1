"""The limits the use cases enforce, as plain values the infrastructure reads from settings."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta

from domain.accounts import DEFAULT_HOURLY_LIMIT, DEFAULT_IDEMPOTENCY_TTL
from domain.generations import DEFAULT_LEASE, DEFAULT_LEASE_ATTEMPTS, DEFAULT_PENDING_TTL
from domain.prompts import DEFAULT_BANNED_WORDS
from domain.queue import DEFAULT_CAPACITY
from domain.webhook_messages import DEFAULT_RETRY_SCHEDULE


@dataclass(frozen=True)
class Policy:
    hourly_limit: int | None = DEFAULT_HOURLY_LIMIT  # None: rate limiting is off
    queue_capacity: int = DEFAULT_CAPACITY
    banned_words: tuple[str, ...] = DEFAULT_BANNED_WORDS
    cloud_names: frozenset[str] = field(default_factory=frozenset)  # empty: any cloud
    generation_enabled: bool = True
    idempotency_ttl: timedelta = DEFAULT_IDEMPOTENCY_TTL
    lease: timedelta = DEFAULT_LEASE
    lease_max_attempts: int = DEFAULT_LEASE_ATTEMPTS  # claims before a lapsed lease fails it
    pending_ttl: timedelta = DEFAULT_PENDING_TTL
    queue_full_retry_after_seconds: int = 30
    webhook_retry_schedule: tuple[int, ...] = DEFAULT_RETRY_SCHEDULE  # seconds between attempts
