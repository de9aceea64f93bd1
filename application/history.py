"""History use cases: an aggregate's events as a timeline, for its owner, an admin or the CLI.

The history is read from the aggregate's own event sequence (not from a read model), so it is
exactly what the application replays to rebuild the aggregate: every event, in version order,
upcast to its current shape when it was stored in an older one.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID

from application.base import AtelierBase
from application.errors import AccountNotFound, GenerationNotFound
from domain.accounts import TokenAccount
from domain.generations import Generation
from domain.identifiers import account_id
from domain.queue import GenerationQueue

MAX_PAGE = 1_000
# The creation event of each aggregate type, and what the timeline calls that aggregate.
KINDS: dict[type[Any], str] = {
    TokenAccount.AccountOpened: "account",
    Generation.GenerationRequested: "generation",
    GenerationQueue.QueueOpened: "queue",
}
# Fields every stored event has; the timeline shows them apart from the event's own data.
ENVELOPE = frozenset({"originator_id", "originator_version", "timestamp", "originator_topic"})


@dataclass(frozen=True)
class HistoryEntry:
    """One event of an aggregate: its type, its version, when it happened, and its data."""

    type: str
    version: int
    timestamp: datetime
    data: dict[str, Any]


@dataclass(frozen=True)
class HistoryPage:
    """Events oldest first; `next_after` is the version to continue after, None at the end."""

    aggregate_id: UUID
    kind: str  # "account" or "generation" (or another aggregate's class name)
    entries: list[HistoryEntry]
    next_after: int | None


def entry_of(event: Any) -> HistoryEntry:
    """A stored event as a timeline entry (its class name, version, timestamp and fields)."""
    fields = vars(event)
    return HistoryEntry(
        type=type(event).__qualname__.rpartition(".")[2],
        version=int(event.originator_version),
        timestamp=event.timestamp,
        data={name: value for name, value in fields.items() if name not in ENVELOPE},
    )


class HistoryUseCases(AtelierBase):
    """GET /api/generations/{id}/events, GET /api/admin/accounts/{userId}/events, and
    `atelier history ID`, without the HTTP or the terminal."""

    def generation_history(
        self, user_id: str, generation_id: UUID, after: int = 0, limit: int = MAX_PAGE
    ) -> HistoryPage:
        """The caller's generation's events; GenerationNotFound for another user's or an
        unknown id (the same answer for both, as for the generation itself)."""
        first = next(iter(self.events.get(generation_id, lte=1)), None)
        if not isinstance(first, Generation.GenerationRequested) or first.user_id != user_id:
            raise GenerationNotFound
        return self._page(generation_id, "generation", after, limit)

    def account_history(self, user_id: str, after: int = 0, limit: int = MAX_PAGE) -> HistoryPage:
        """A user's account events (for an admin); AccountNotFound if no account is open."""
        page = self._page(account_id(user_id), "account", after, limit)
        if not page.entries and not self._exists(account_id(user_id)):
            raise AccountNotFound(user_id)
        return page

    def aggregate_history(
        self, identifier: str, after: int = 0, limit: int = MAX_PAGE
    ) -> HistoryPage:
        """The events of whatever `identifier` names: an aggregate id (a generation's, an
        account's, the queue's), else a user id, whose account it then is."""
        try:
            aggregate_id = UUID(identifier)
        except ValueError:
            aggregate_id = None
        if aggregate_id is not None and self._exists(aggregate_id):
            return self._page(aggregate_id, self._kind_of(aggregate_id), after, limit)
        return self.account_history(identifier, after, limit)

    # ---- helpers -----------------------------------------------------------------------

    def _page(self, aggregate_id: UUID, kind: str, after: int, limit: int) -> HistoryPage:
        limit = max(1, min(limit, MAX_PAGE))
        events = list(self.events.get(aggregate_id, gt=after or None, limit=limit + 1))
        entries = [entry_of(event) for event in events[:limit]]
        more = len(events) > limit
        return HistoryPage(
            aggregate_id=aggregate_id,
            kind=kind,
            entries=entries,
            next_after=entries[-1].version if more and entries else None,
        )

    def _exists(self, aggregate_id: UUID) -> bool:
        return next(iter(self.events.get(aggregate_id, lte=1)), None) is not None

    def _kind_of(self, aggregate_id: UUID) -> str:
        first = next(iter(self.events.get(aggregate_id, lte=1)))
        return KINDS.get(type(first), type(first).__qualname__.partition(".")[0])
