"""Idempotency keys: what a key remembers, and for how long."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any


@dataclass(frozen=True)
class IdempotencyKey:
    key: str
    fingerprint: str

    def remembered_until(self, now: datetime, ttl: timedelta) -> dict[str, Any]:
        """The event payload that remembers this key until `now + ttl`."""
        return {"key": self.key, "fingerprint": self.fingerprint, "expires_at": now + ttl}
