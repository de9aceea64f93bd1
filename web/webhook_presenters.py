"""The JSON shapes of the webhook routes, and of the messages themselves."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from application.queries import GenerationRecord
from application.webhook_queries import AttemptRecord, EndpointRecord, MessageRecord
from web.presenters import generation_json
from web.responses import iso_or_none, iso_timestamp


def endpoint_json(record: EndpointRecord) -> dict[str, Any]:
    """With `secret` only in the answer that created it."""
    shown = {
        "id": str(record.endpoint_id),
        "url": record.url,
        "events": list(record.events),
        "description": record.description,
        "enabled": record.enabled,
        "createdAt": iso_timestamp(record.created_at),
    }
    if record.secret is not None:
        shown["secret"] = record.secret
    return shown


def attempt_json(attempt: AttemptRecord) -> dict[str, Any]:
    return {
        "at": iso_timestamp(attempt.at),
        "statusCode": attempt.status_code,
        "error": attempt.error,
        "durationMs": attempt.duration_ms,
    }


def message_json(record: MessageRecord) -> dict[str, Any]:
    return {
        "id": str(record.message_id),
        "type": record.type,
        "generationId": str(record.generation_id),
        "status": record.status,
        "createdAt": iso_timestamp(record.created_at),
        "nextAttemptAt": iso_or_none(record.next_attempt_at),
        "attempts": [attempt_json(attempt) for attempt in record.attempts],
    }


def webhook_body_json(type_: str, at: datetime, generation: GenerationRecord) -> dict[str, Any]:
    """What a message carries: the generation exactly as GET /api/generations/{id} shows it."""
    return {"type": type_, "timestamp": iso_timestamp(at), "data": generation_json(generation)}


def webhook_stats_json(counts: dict[str, int]) -> dict[str, int]:
    return {status: counts.get(status, 0) for status in ("pending", "succeeded", "failed")}
