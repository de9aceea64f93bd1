"""The JSON shapes of the contract, from the application's read models."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

from application.endings import Heartbeat
from application.history import HistoryEntry
from application.queries import (
    ActivityBucket,
    GenerationRecord,
    ProjectionStatus,
    QueueStatus,
    Totals,
    UserActivity,
    UserNearLimit,
)
from application.views import AccountRecord, AccountSummary, RateLimitStatus, Receipt
from web.responses import iso_or_none, iso_timestamp


def receipt_json(receipt: Receipt) -> dict[str, Any]:
    return {
        "_id": str(receipt.generation_id),
        "status": receipt.status,
        "estimatedCost": receipt.token_cost,
        "estimatedTime": receipt.estimated_time,
        "queuePosition": receipt.queue_position,
    }


def rate_limit_headers(status: RateLimitStatus) -> dict[str, str]:
    """None when rate limiting is off."""
    if status.limit is None or status.remaining is None:
        return {}
    return {
        "RateLimit-Limit": str(status.limit),
        "RateLimit-Remaining": str(status.remaining),
        "RateLimit-Reset": str(status.reset_seconds),
    }


def rate_limit_json(status: RateLimitStatus) -> dict[str, Any]:
    return {
        "limit": status.limit,
        "used": status.used,
        "remaining": status.remaining,
        "resetAt": iso_or_none(status.resets_at),
    }


def account_fields(account: AccountRecord) -> dict[str, Any]:
    """Shared by the HTTP routes and `atelier accounts`."""
    return {
        "userId": account.user_id,
        "status": account.status,
        "balance": account.balance,
        "reserved": account.reserved,
        "available": account.available,
    }


def account_json(summary: AccountSummary) -> dict[str, Any]:
    return {**account_fields(summary.record), "rateLimit": rate_limit_json(summary.rate_limit)}


def admin_account_json(summary: AccountSummary) -> dict[str, Any]:
    account = summary.record
    return {
        **account_json(summary),
        "version": account.version,
        "openedAt": iso_or_none(account.opened_at),
        "disabledReason": account.disabled_reason,
    }


def generation_json(record: GenerationRecord) -> dict[str, Any]:
    return {
        "_id": str(record.generation_id),
        "userId": record.user_id,
        "status": record.status,
        "productImages": list(record.product_images),
        "modelImages": list(record.model_images),
        "images": [dict(image) for image in record.images],
        "style": record.style,
        "aspectRatio": record.aspect_ratio,
        "quality": record.quality,
        "model": record.model,
        "customPrompt": record.custom_prompt,
        "parameters": dict(record.parameters),
        "prompt": record.prompt,
        "tokenCost": record.token_cost,
        "createdAt": iso_timestamp(record.created_at),
        "updatedAt": iso_timestamp(record.updated_at),
        "startedAt": iso_or_none(record.started_at),
        "completedAt": iso_or_none(record.completed_at),
        "resultImages": list(record.result_images),
        "error": record.error,
        "queuePosition": record.queue_position,
    }


def worker_generation_json(record: GenerationRecord) -> dict[str, Any]:
    return {
        **generation_json(record),
        "workerId": record.worker_id,
        "leaseExpiresAt": iso_or_none(record.lease_expires_at),
        "attempt": record.attempt,
    }


def heartbeat_json(answer: Heartbeat) -> dict[str, Any]:
    return {
        "_id": str(answer.generation_id),
        "workerId": answer.worker_id,
        "leaseExpiresAt": iso_or_none(answer.lease_expires_at),
        "cancelled": answer.cancelled,
    }


def queue_json(status: QueueStatus) -> dict[str, Any]:
    return {
        "depth": status.depth,
        "capacity": status.capacity,
        "processing": status.processing,
        "oldestPendingAt": iso_or_none(status.oldest_pending_at),
    }


def stats_json(
    totals: Totals,
    queue: QueueStatus,
    projections: list[ProjectionStatus],
    generator: tuple[str, str],
) -> dict[str, Any]:
    """`generator`: GENERATOR's name and its circuit's state."""
    name, circuit = generator
    return {
        "generations": dict(totals.generations),
        "tokens": dict(totals.tokens),
        "queue": queue_json(queue),
        "projections": [projection_json(p) for p in projections],
        "generator": {"name": name, "circuit": circuit},
    }


def projection_json(status: ProjectionStatus) -> dict[str, Any]:
    """The failure's fields only while it fails, so a healthy answer is as it always was."""
    shown: dict[str, Any] = {"name": status.name, "position": status.position, "lag": status.lag}
    if status.failing:
        shown |= {
            "failing": True,
            "error": status.error,
            "failedAtPosition": status.failed_at_position,
            "failingSince": iso_or_none(status.failing_since),
        }
    return shown


def history_entry_json(entry: HistoryEntry) -> dict[str, Any]:
    return {
        "type": entry.type,
        "version": entry.version,
        "timestamp": iso_timestamp(entry.timestamp),
        "data": {_camel(name): _plain(value, name) for name, value in entry.data.items()},
    }


def _camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part[:1].upper() + part[1:] for part in rest)


def _plain(value: Any, name: str = "") -> Any:
    if isinstance(value, datetime):
        return iso_timestamp(value)
    if isinstance(value, UUID):
        return str(value)
    if isinstance(value, dict):
        keep = name == "parameters"  # the contract keeps the sampler's names as sent
        return {(k if keep else _camel(str(k))): _plain(v, str(k)) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(item) for item in value]
    return value


def activity_json(buckets: list[ActivityBucket]) -> dict[str, Any]:
    return {
        "buckets": [{"start": iso_timestamp(b.start), **b.figures} for b in buckets],
    }


def user_activity_json(user: UserActivity) -> dict[str, Any]:
    return {
        "userId": user.user_id,
        "generations": user.generations,
        "tokensCaptured": user.tokens_captured,
    }


def near_limit_json(user: UserNearLimit) -> dict[str, Any]:
    return {
        "userId": user.user_id,
        "used": user.used,
        "limit": user.limit,
        "remaining": max(0, user.limit - user.used),
        "resetAt": iso_timestamp(user.resets_at),
    }
