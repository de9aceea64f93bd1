"""A follower: follows the event log with a tracking position; a view or a tracked effect."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, Protocol

from eventsourcing.persistence import IntegrityError

# An event as a follower gets it: its stored topic, the decoded domain event, its log position.
Followed = tuple[str, Any, int]


class PositionMoved(IntegrityError):
    """Another runner moved this follower's position since the batch was read; nothing was done."""


class Follower(Protocol):
    """What the runner, `catch_up` and read-your-writes need of anything that follows the log."""

    @property
    def name(self) -> str: ...

    @property
    def topics(self) -> tuple[str, ...]:
        """The stored topics of the event classes it follows (the others are never read)."""

    def position(self) -> int:
        """The log position of the last event it has applied (0: none yet)."""

    def apply(self, events: Iterable[Followed], expected: int, reached: int) -> None:
        """Do the work, moving the position `expected` -> `reached` atomically, or PositionMoved."""
