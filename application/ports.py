"""What the use cases need from the outside world, as interfaces the infrastructure implements."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Protocol
from uuid import UUID

from domain.errors import FieldProblem
from domain.results import ResultImage

Clock = Callable[[], datetime]


def system_clock() -> datetime:
    return datetime.now(UTC)


class BackgroundService(Protocol):
    """Work beside the requests (projection runners, sweepers), started and stopped with them."""

    name: str

    def start(self) -> None: ...

    def stop(self) -> None: ...


class ImageChecker(Protocol):
    """Whether images can be fetched (VERIFY_IMAGE_URLS)."""

    def unreachable(self, images: Sequence[tuple[str, str]]) -> list[FieldProblem]:
        """For (field, url) pairs, one problem per URL that did not answer 2xx."""
        ...


class QueueView(Protocol):
    """The pending-queue read model: positions for readers, candidates for claims and sweeps."""

    def position_of(self, generation_id: UUID) -> int | None:
        """1-based FIFO position, or None if the generation is not pending."""
        ...

    def oldest_pending(self, limit: int) -> list[UUID]:
        """FIFO order, after catching up to the log head (bounded wait)."""
        ...

    def expired_leases(self, now: datetime, limit: int) -> list[UUID]:
        """Processing and lease_expires_at <= now."""
        ...

    def pending_requested_before(self, cutoff: datetime, limit: int) -> list[UUID]:
        """Pending and requested_at <= cutoff."""
        ...


@dataclass(frozen=True)
class GenerationJob:
    """What an image generator is told about a claimed generation."""

    generation_id: UUID
    user_id: str
    prompt: str
    product_images: tuple[str, ...]
    model_images: tuple[str, ...]
    style: str
    aspect_ratio: str
    quality: str
    model: str
    parameters: Mapping[str, Any]
    lease_expires_at: datetime


class GeneratorFailure(Exception):
    """The generator gave up; `reason` is what the generation's `error` tells its owner, and
    `upstream` whether the model's service was at fault (it counts towards the circuit)."""

    def __init__(self, reason: str, *, upstream: bool = False) -> None:
        super().__init__(reason)
        self.reason = reason
        self.upstream = upstream


class WorkStopped(Exception):
    """The generation was cancelled (or its lease lost) while it ran: nothing was uploaded."""


class StopSignal(Protocol):
    """Set once the work must stop (a `threading.Event`)."""

    def is_set(self) -> bool: ...

    def wait(self, timeout: float | None = None) -> bool: ...


class ImageGenerator(Protocol):
    name: str

    def generate(self, job: GenerationJob, stop: StopSignal) -> list[ResultImage]:
        """1-4 durable result images; GeneratorFailure with a reason for the owner; WorkStopped
        once `stop` is set (then no result is uploaded)."""
        ...
