"""The sweeper: applies the time limits (lease, pending time to live) in the background.

It runs in every server process and in every `atelier worker`, all at once if need be: each
sweep asks the read model for candidates and lets the aggregates' version checks decide, so
two sweepers never end a generation twice and a lost race is simply skipped.
"""

from __future__ import annotations

from application.service import Atelier
from infrastructure.background import PeriodicThread


def sweeper(atelier: Atelier, interval_seconds: float) -> PeriodicThread:
    """A thread that sweeps every `interval_seconds`, and again at once while a batch was full."""
    return PeriodicThread("sweeper", lambda: atelier.sweep().busy, interval_seconds)
