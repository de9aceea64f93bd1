"""Dashboard totals: generations by status, and tokens granted, reserved, captured, released."""

from __future__ import annotations

from collections.abc import Iterable

from eventsourcing.domain import Aggregate

from application.queries import Totals
from domain.accounts import TokenAccount
from domain.generations import (
    CANCELLED,
    COMPLETED,
    EXPIRED,
    FAILED,
    PENDING,
    PROCESSING,
    STATUSES,
    Generation,
    GenerationStatus,
)
from infrastructure.projections.freshness import Freshness
from infrastructure.projections.table_projection import Handler, TableProjection, on
from infrastructure.projections.view import ProjectionView
from infrastructure.projections.writes import Writes

TOKEN_FIGURES = ("granted", "reserved", "captured", "released")
ADD = (
    "INSERT INTO {dashboard_totals} AS totals (metric, value) VALUES (?, ?) "
    "ON CONFLICT (metric) DO UPDATE SET value = totals.value + excluded.value"
)

# A generation event moves one generation from a status (None: it is new) to another.
TRANSITIONS: dict[type[Aggregate.Event], tuple[GenerationStatus | None, GenerationStatus]] = {
    Generation.GenerationRequested: (None, PENDING),
    Generation.GenerationStarted: (PENDING, PROCESSING),
    Generation.GenerationRequeued: (PROCESSING, PENDING),
    Generation.GenerationCompleted: (PROCESSING, COMPLETED),
    Generation.GenerationFailed: (PROCESSING, FAILED),
    Generation.GenerationCancelled: (PENDING, CANCELLED),
    Generation.ProcessingCancelled: (PROCESSING, CANCELLED),
    Generation.GenerationExpired: (PENDING, EXPIRED),
}


def generation_metric(status: str) -> str:
    return f"generations.{status}"


def token_metric(figure: str) -> str:
    return f"tokens.{figure}"


class DashboardProjection(TableProjection):
    name = "dashboard_totals"
    tables = {"dashboard_totals": ("metric",)}
    schema = (
        "CREATE TABLE IF NOT EXISTS {dashboard_totals} ("
        "metric TEXT PRIMARY KEY, value BIGINT NOT NULL)",
    )

    def event_handlers(self) -> Iterable[tuple[str, Handler]]:
        yield on(TokenAccount.AccountOpened, self._opened)
        yield on(TokenAccount.TokensGranted, self._granted)
        yield on(TokenAccount.TokensReserved, self._reserved)
        yield on(TokenAccount.TokensCaptured, self._captured)
        yield on(TokenAccount.TokensReleased, self._released)
        for event_class, (before, after) in TRANSITIONS.items():
            yield on(event_class, self._transition(before, after))

    @staticmethod
    def _add(writes: Writes, metric: str, amount: int) -> None:
        writes.add_to(ADD, (metric,), amount)

    def _opened(self, event: TokenAccount.AccountOpened, position: int, writes: Writes) -> None:
        self._add(writes, token_metric("granted"), event.tokens)

    def _granted(self, event: TokenAccount.TokensGranted, position: int, writes: Writes) -> None:
        self._add(writes, token_metric("granted"), event.amount)

    def _reserved(self, event: TokenAccount.TokensReserved, position: int, writes: Writes) -> None:
        self._add(writes, token_metric("reserved"), event.amount)

    def _captured(self, event: TokenAccount.TokensCaptured, position: int, writes: Writes) -> None:
        self._add(writes, token_metric("reserved"), -event.amount)
        self._add(writes, token_metric("captured"), event.amount)

    def _released(self, event: TokenAccount.TokensReleased, position: int, writes: Writes) -> None:
        self._add(writes, token_metric("reserved"), -event.amount)
        self._add(writes, token_metric("released"), event.amount)

    def _transition(self, before: GenerationStatus | None, after: GenerationStatus) -> Handler:
        def handle(event: Aggregate.Event, position: int, writes: Writes) -> None:
            if before is not None:
                self._add(writes, generation_metric(before), -1)
            self._add(writes, generation_metric(after), 1)

        return handle


class Dashboard:
    def __init__(self, view: ProjectionView, freshness: Freshness) -> None:
        self.view = view
        self.freshness = freshness

    def totals(self) -> Totals:
        self.freshness.wait(self.view)
        values = {
            row["metric"]: row["value"]
            for row in self.view.fetch("SELECT metric, value FROM {dashboard_totals}")
        }
        return Totals(
            generations={s: values.get(generation_metric(s), 0) for s in STATUSES},
            tokens={f: values.get(token_metric(f), 0) for f in TOKEN_FIGURES},
        )
