"""The webhooks read model: each endpoint (deleted or not) and each message's status, next
attempt and number of attempts."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from application.audit.reading import moment_micros
from application.audit.replay import Replay
from domain.webhook_endpoints import WebhookEndpoint
from domain.webhook_messages import WebhookMessage, is_success
from infrastructure.audit.checks.view_check import ViewCheck, unequal
from infrastructure.audit.consistent_read import ViewReader

Row = tuple[Any, ...]


class WebhooksCheck(ViewCheck):
    event_classes = frozenset(
        {
            WebhookEndpoint.EndpointCreated,
            WebhookEndpoint.EndpointDeleted,
            WebhookMessage.MessageCreated,
            WebhookMessage.AttemptRecorded,
            WebhookMessage.RetryRequested,
            WebhookMessage.MessageAbandoned,
        }
    )

    def __init__(self, *args: Any) -> None:
        super().__init__(*args)
        self.rows: dict[str, Row] = {}  # endpoint: (deleted,); message: (status, next, attempts)

    def observe(self, position: int, key: int, cls: type[Any], data: dict[str, Any]) -> None:
        row_id = str(UUID(int=key))
        status, next_at, attempts = self.rows.get(row_id, ("pending", None, 0))
        if cls is WebhookEndpoint.EndpointCreated:
            self.rows[row_id] = (False,)
        elif cls is WebhookEndpoint.EndpointDeleted:
            self.rows[row_id] = (True,)
        elif cls is WebhookMessage.MessageCreated:
            self.rows[row_id] = ("pending", moment_micros(data["created_at"]), 0)
        elif cls is WebhookMessage.AttemptRecorded:
            later = data["next_attempt_at"]
            if is_success(data["status_code"]):
                status, next_at = "succeeded", None
            else:
                status = "pending" if later is not None else "failed"
                next_at = None if later is None else moment_micros(later)
            self.rows[row_id] = (status, next_at, attempts + 1)
        elif cls is WebhookMessage.RetryRequested:
            self.rows[row_id] = ("pending", moment_micros(data["at"]), attempts)
        else:  # MessageAbandoned
            self.rows[row_id] = ("failed", None, attempts)

    @staticmethod
    def read(reader: ViewReader) -> dict[str, Row]:
        held: dict[str, Row] = {
            endpoint_id: (bool(deleted),)
            for endpoint_id, deleted in reader.values("SELECT id, deleted FROM {webhook_endpoints}")
        }
        counts = dict(
            reader.values("SELECT message_id, COUNT(*) FROM {webhook_attempts} GROUP BY message_id")
        )
        for message_id, status, next_at in reader.values(
            "SELECT id, status, next_attempt_at FROM {webhook_messages}"
        ):
            at = None if next_at is None else int(next_at)
            held[message_id] = (status, at, int(counts.get(message_id, 0)))
        return held

    def differences(self, held: dict[str, Row], replay: Replay) -> int:
        rows = unequal(held, self.rows)
        for row_id in rows:
            theirs, ours = held.get(row_id), self.rows.get(row_id)
            self.mismatch(replay, f"webhook row {row_id} is {theirs}; the replay makes it {ours}")
        return len(rows)
