"""Live status: a generation's changes as they are recorded, for streams and `Prefer: wait`."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncGenerator, Awaitable
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from typing import Protocol
from uuid import UUID

from application.queries import GenerationRecord
from application.service import Atelier
from domain.generations import END_STATES, Generation


class GenerationWatch(Protocol):
    """One waiter's view of one generation's changes."""

    def changed(self, timeout: float) -> Awaitable[bool]:
        """True once an event of the generation was recorded since the last call (or since the
        watch began), False after `timeout` seconds without one. May wake spuriously."""
        ...


class GenerationChanges(Protocol):
    """Tells waiters that a generation changed, whichever process of the store recorded it."""

    def watch(self, generation_id: UUID) -> AbstractAsyncContextManager[GenerationWatch]:
        """Every change recorded after entering is reported: enter before reading the state."""
        ...


@dataclass(frozen=True)
class VersionedGeneration:
    record: GenerationRecord
    version: int

    @property
    def has_ended(self) -> bool:
        return self.record.status in END_STATES


class LiveStatus:
    """Waiting on a generation costs no thread: the watch is asyncio, reads go to a thread."""

    def __init__(self, atelier: Atelier, changes: GenerationChanges) -> None:
        self.atelier = atelier
        self.changes = changes

    def read(self, user_id: str, generation_id: UUID) -> VersionedGeneration:
        """GenerationNotFound unless `user_id` owns it."""
        generation = self.atelier.load_generation(generation_id, owner=user_id)
        position = None
        if generation.is_pending and self.atelier.queue_view is not None:
            position = self.atelier.queue_view.position_of(generation_id)
        return VersionedGeneration(GenerationRecord.of(generation, position), generation.version)

    def status_at(self, generation_id: UUID, version: int) -> str:
        generation: Generation = self.atelier.repository.get(generation_id, version=version)
        return str(generation.status)

    async def until_ended(
        self, user_id: str, generation_id: UUID, seconds: float
    ) -> VersionedGeneration:
        """The generation once it has ended, or as it is after `seconds`."""
        deadline = time.monotonic() + seconds
        async with self.changes.watch(generation_id) as watch:
            current = await asyncio.to_thread(self.read, user_id, generation_id)
            while not current.has_ended:
                remaining = deadline - time.monotonic()
                if remaining <= 0 or not await watch.changed(remaining):
                    break
                current = await asyncio.to_thread(self.read, user_id, generation_id)
            return current

    async def resume_point(
        self, generation_id: UUID, last_event_id: str | None, current: VersionedGeneration
    ) -> tuple[int, str] | None:
        """(version, status) a client last saw, from `Last-Event-ID`; None if it names no
        version of this generation (then the client gets everything, as on a first connect)."""
        if last_event_id is None or not last_event_id.strip().isdigit():
            return None
        version = int(last_event_id.strip())
        if not 1 <= version <= current.version:
            return None
        if version == current.version:
            return version, current.record.status
        return version, await asyncio.to_thread(self.status_at, generation_id, version)

    async def status_changes(
        self,
        user_id: str,
        generation_id: UUID,
        seen: tuple[int, str] | None,
        quiet_seconds: float,
    ) -> AsyncGenerator[VersionedGeneration | None, None]:
        """The generation unless the client has seen its status, then each change of status,
        until one that ends it; None after each `quiet_seconds` without one (for keep-alives)."""
        async with self.changes.watch(generation_id) as watch:
            current = await asyncio.to_thread(self.read, user_id, generation_id)
            last_sent = time.monotonic()
            while True:
                if seen is None or (current.version > seen[0] and current.record.status != seen[1]):
                    seen = (current.version, current.record.status)
                    yield current
                    last_sent = time.monotonic()
                if current.has_ended:
                    return
                del current  # a held stream keeps only (version, status), not the generation
                while True:
                    quiet_for = time.monotonic() - last_sent
                    if quiet_for >= quiet_seconds:
                        yield None
                        last_sent = time.monotonic()
                    elif await watch.changed(quiet_seconds - quiet_for):
                        break
                current = await asyncio.to_thread(self.read, user_id, generation_id)
