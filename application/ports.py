"""What the use cases need from the outside world, as interfaces the infrastructure implements."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import Protocol
from uuid import UUID

from domain.errors import FieldProblem

Clock = Callable[[], datetime]


def system_clock() -> datetime:
    """The current time, timezone-aware, in UTC."""
    return datetime.now(UTC)


class ImageChecker(Protocol):
    """Checks that images can be fetched (the contract's VERIFY_IMAGE_URLS)."""

    def unreachable(self, images: Sequence[tuple[str, str]]) -> list[FieldProblem]:
        """For (field, url) pairs, one problem per URL that did not answer 2xx."""
        ...


class QueuePositions(Protocol):
    """Where a pending generation stands among all pending ones (a read model answers this)."""

    def position_of(self, generation_id: UUID) -> int | None:
        """1-based FIFO position, or None if the generation is not pending."""
        ...
