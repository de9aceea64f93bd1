"""Webhooks: endpoints, their messages and every attempt, as the admin routes list them."""

from __future__ import annotations

import json
from collections.abc import Iterable
from datetime import datetime
from uuid import UUID

from application.webhook_queries import (
    AttemptRecord,
    DueMessage,
    EndpointPage,
    EndpointRecord,
    MessagePage,
    MessageRecord,
)
from domain.webhook_endpoints import WebhookEndpoint
from domain.webhook_messages import MESSAGE_STATUSES, PENDING, WebhookMessage, is_success
from infrastructure.projections.freshness import Freshness
from infrastructure.projections.sql import from_micros, from_micros_or_none, micros, micros_or_none
from infrastructure.projections.table_projection import Handler, TableProjection, on
from infrastructure.projections.view import ProjectionView
from infrastructure.projections.writes import Writes

MESSAGES = "webhook_messages"


class WebhooksProjection(TableProjection):
    name = "webhooks"
    tables = {
        "webhook_endpoints": ("id",),
        MESSAGES: ("id",),
        "webhook_attempts": ("message_id", "version"),
    }
    schema = (
        "CREATE TABLE IF NOT EXISTS {webhook_endpoints} ("
        "id TEXT PRIMARY KEY, url TEXT NOT NULL, events TEXT NOT NULL, "
        "description TEXT NOT NULL, created_at BIGINT NOT NULL, deleted BOOLEAN NOT NULL, "
        "seq BIGINT NOT NULL)",
        "CREATE TABLE IF NOT EXISTS {webhook_messages} ("
        "id TEXT PRIMARY KEY, endpoint_id TEXT NOT NULL, type TEXT NOT NULL, "
        "generation_id TEXT NOT NULL, status TEXT NOT NULL, created_at BIGINT NOT NULL, "
        "next_attempt_at BIGINT, seq BIGINT NOT NULL)",
        "CREATE INDEX IF NOT EXISTS webhook_messages_by_endpoint "
        "ON {webhook_messages} (endpoint_id, seq)",
        "CREATE INDEX IF NOT EXISTS webhook_messages_due "
        "ON {webhook_messages} (status, next_attempt_at)",
        "CREATE TABLE IF NOT EXISTS {webhook_attempts} ("
        "message_id TEXT NOT NULL, version INTEGER NOT NULL, at BIGINT NOT NULL, "
        "status_code INTEGER, error TEXT, duration_ms INTEGER NOT NULL, "
        "PRIMARY KEY (message_id, version))",
    )

    def event_handlers(self) -> Iterable[tuple[str, Handler]]:
        return (
            on(WebhookEndpoint.EndpointCreated, self._endpoint_created),
            on(WebhookEndpoint.EndpointDeleted, self._endpoint_deleted),
            on(WebhookMessage.MessageCreated, self._message_created),
            on(WebhookMessage.AttemptRecorded, self._attempted),
            on(WebhookMessage.RetryRequested, self._retry_requested),
            on(WebhookMessage.MessageAbandoned, self._abandoned),
        )

    def _endpoint_created(
        self, event: WebhookEndpoint.EndpointCreated, position: int, writes: Writes
    ) -> None:
        row = {
            "id": str(event.originator_id),
            "url": event.url,
            "events": json.dumps(event.events),
            "description": event.description,
            "created_at": micros(event.created_at),
            "deleted": False,
            "seq": position,
        }
        writes.insert("webhook_endpoints", row)

    def _endpoint_deleted(
        self, event: WebhookEndpoint.EndpointDeleted, position: int, writes: Writes
    ) -> None:
        writes.update("webhook_endpoints", (str(event.originator_id),), {"deleted": True})

    def _message_created(
        self, event: WebhookMessage.MessageCreated, position: int, writes: Writes
    ) -> None:
        row = {
            "id": str(event.originator_id),
            "endpoint_id": str(event.endpoint_id),
            "type": event.type,
            "generation_id": str(event.generation_id),
            "status": PENDING.value,
            "created_at": micros(event.created_at),
            "next_attempt_at": micros(event.created_at),
            "seq": position,
        }
        writes.insert(MESSAGES, row)

    def _attempted(
        self, event: WebhookMessage.AttemptRecorded, position: int, writes: Writes
    ) -> None:
        message_id = str(event.originator_id)
        writes.insert(
            "webhook_attempts",
            {
                "message_id": message_id,
                "version": event.originator_version,
                "at": micros(event.at),
                "status_code": event.status_code,
                "error": event.error,
                "duration_ms": event.duration_ms,
            },
        )
        if is_success(event.status_code):
            status = "succeeded"
        else:
            status = "pending" if event.next_attempt_at is not None else "failed"
        changes = {"status": status, "next_attempt_at": micros_or_none(event.next_attempt_at)}
        writes.update(MESSAGES, (message_id,), changes)

    def _retry_requested(
        self, event: WebhookMessage.RetryRequested, position: int, writes: Writes
    ) -> None:
        changes = {"status": PENDING.value, "next_attempt_at": micros(event.at)}
        writes.update(MESSAGES, (str(event.originator_id),), changes)

    def _abandoned(
        self, event: WebhookMessage.MessageAbandoned, position: int, writes: Writes
    ) -> None:
        changes = {"status": "failed", "next_attempt_at": None}
        writes.update(MESSAGES, (str(event.originator_id),), changes)


class WebhookViews:
    """The webhook queries of the admin routes and of delivery's scan for due messages."""

    def __init__(self, view: ProjectionView, freshness: Freshness) -> None:
        self.view = view
        self.freshness = freshness

    def endpoints(self, limit: int, before: int | None) -> EndpointPage:
        self.freshness.wait(self.view)
        rows = self.view.fetch(
            "SELECT id, url, events, description, created_at, seq FROM {webhook_endpoints} "
            "WHERE NOT deleted AND seq < ? ORDER BY seq DESC LIMIT ?",
            before if before is not None else 2**62,
            limit + 1,
        )
        items = [
            EndpointRecord(
                endpoint_id=UUID(row["id"]),
                url=row["url"],
                events=json.loads(row["events"]),
                description=row["description"],
                enabled=True,
                created_at=from_micros(row["created_at"]),
            )
            for row in rows[:limit]
        ]
        more = len(rows) > limit
        return EndpointPage(items, rows[limit - 1]["seq"] if more else None)

    def messages(
        self, endpoint_id: UUID, status: str | None, limit: int, before: int | None
    ) -> MessagePage:
        self.freshness.wait(self.view)
        query = (
            "SELECT id, type, generation_id, status, created_at, next_attempt_at, seq "
            "FROM {webhook_messages} WHERE endpoint_id = ? AND seq < ? "
        )
        params: list[object] = [str(endpoint_id), before if before is not None else 2**62]
        if status is not None:
            query += "AND status = ? "
            params.append(status)
        rows = self.view.fetch(query + "ORDER BY seq DESC LIMIT ?", *params, limit + 1)
        page = rows[:limit]
        attempts = self._attempts([row["id"] for row in page])
        items = [
            MessageRecord(
                message_id=UUID(row["id"]),
                type=row["type"],
                generation_id=UUID(row["generation_id"]),
                status=row["status"],
                created_at=from_micros(row["created_at"]),
                next_attempt_at=(
                    from_micros_or_none(row["next_attempt_at"])
                    if row["status"] == PENDING
                    else None
                ),
                attempts=attempts.get(row["id"], []),
            )
            for row in page
        ]
        return MessagePage(items, page[-1]["seq"] if len(rows) > limit else None)

    def _attempts(self, message_ids: list[str]) -> dict[str, list[AttemptRecord]]:
        if not message_ids:
            return {}
        marks = ", ".join("?" * len(message_ids))  # placeholders only: the ids are parameters
        rows = self.view.fetch(
            "SELECT message_id, version, at, status_code, error, duration_ms "  # noqa: S608
            f"FROM {{webhook_attempts}} WHERE message_id IN ({marks}) ORDER BY version",
            *message_ids,
        )
        found: dict[str, list[AttemptRecord]] = {}
        for row in rows:
            found.setdefault(row["message_id"], []).append(
                AttemptRecord(
                    at=from_micros(row["at"]),
                    status_code=row["status_code"],
                    error=row["error"],
                    duration_ms=row["duration_ms"],
                )
            )
        return found

    def counts(self) -> dict[str, int]:
        self.freshness.wait(self.view)
        rows = self.view.fetch(
            "SELECT status, COUNT(*) AS n FROM {webhook_messages} GROUP BY status"
        )
        found = {row["status"]: int(row["n"]) for row in rows}
        return {status.value: found.get(status.value, 0) for status in MESSAGE_STATUSES}

    def due(self, now: datetime, limit: int) -> list[DueMessage]:
        rows = self.view.fetch(
            "SELECT id, endpoint_id FROM {webhook_messages} "
            "WHERE status = ? AND next_attempt_at <= ? ORDER BY next_attempt_at LIMIT ?",
            PENDING.value,
            micros(now),
            limit,
        )
        return [DueMessage(UUID(row["id"]), UUID(row["endpoint_id"])) for row in rows]
