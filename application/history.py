"""History use cases: an aggregate's own events as a timeline (docs/events.md)."""

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
ENVELOPE = frozenset({"originator_id", "originator_version", "timestamp", "originator_topic"})


@dataclass(frozen=True)
class HistoryEntry:
    type: str
    version: int
    timestamp: datetime
    data: dict[str, Any]


@dataclass(frozen=True)
class HistoryPage:
    """`next_after` is the version to continue after, None at the end."""

    aggregate_id: UUID
    kind: str
    entries: list[HistoryEntry]
    next_after: int | None


def entry_of(event: Any) -> HistoryEntry:
    fields = vars(event)
    return HistoryEntry(
        type=type(event).__qualname__.rpartition(".")[2],
        version=int(event.originator_version),
        timestamp=event.timestamp,
        data={name: value for name, value in fields.items() if name not in ENVELOPE},
    )


class HistoryUseCases(AtelierBase):
    def generation_history(
        self, user_id: str, generation_id: UUID, after: int = 0, limit: int = MAX_PAGE
    ) -> HistoryPage:
        first = self._first_event(generation_id)
        if not isinstance(first, Generation.GenerationRequested) or first.user_id != user_id:
            raise GenerationNotFound
        return self._page(generation_id, "generation", after, limit)

    def account_history(self, user_id: str, after: int = 0, limit: int = MAX_PAGE) -> HistoryPage:
        page = self._page(account_id(user_id), "account", after, limit)
        if not page.entries and self._first_event(account_id(user_id)) is None:
            raise AccountNotFound(user_id)
        return page

    def aggregate_history(
        self, identifier: str, after: int = 0, limit: int = MAX_PAGE
    ) -> HistoryPage:
        """`identifier` is any aggregate's id, or else a user id, naming their account."""
        try:
            aggregate_id = UUID(identifier)
        except ValueError:
            return self.account_history(identifier, after, limit)
        first = self._first_event(aggregate_id)
        if first is None:
            return self.account_history(identifier, after, limit)
        kind = KINDS.get(type(first), type(first).__qualname__.partition(".")[0])
        return self._page(aggregate_id, kind, after, limit)

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

    def _first_event(self, aggregate_id: UUID) -> Any | None:
        return next(iter(self.events.get(aggregate_id, lte=1)), None)
