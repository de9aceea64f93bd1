"""The sweeper: applies the time limits (lease, pending time to live) in the background."""

from __future__ import annotations

from application.service import Atelier
from infrastructure.background import PeriodicThread


def sweeper(atelier: Atelier, interval_seconds: float) -> PeriodicThread:
    """A thread that sweeps every `interval_seconds`, and again at once while a batch was full."""
    return PeriodicThread("sweeper", lambda: atelier.sweep().busy, interval_seconds)
