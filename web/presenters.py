"""The JSON shapes of the contract, from the application's read models."""

from __future__ import annotations

from typing import Any

from application.views import AccountSummary, GenerationDetails, RateLimitStatus, Receipt
from web.responses import iso_or_none


def receipt_json(receipt: Receipt) -> dict[str, Any]:
    return {
        "_id": str(receipt.generation_id),
        "status": receipt.status,
        "estimatedCost": receipt.token_cost,
        "estimatedTime": receipt.estimated_time,
        "queuePosition": receipt.queue_position,
    }


def rate_limit_headers(status: RateLimitStatus) -> dict[str, str]:
    """RateLimit-* headers (none when rate limiting is off)."""
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


def account_json(summary: AccountSummary) -> dict[str, Any]:
    """GET /api/account."""
    account = summary.account
    return {
        "userId": account.user_id,
        "status": account.status,
        "balance": account.balance,
        "reserved": account.reserved,
        "available": account.available,
        "rateLimit": rate_limit_json(summary.rate_limit),
    }


def admin_account_json(summary: AccountSummary) -> dict[str, Any]:
    """The admin routes' account: the user's view plus its version and history markers."""
    account = summary.account
    return {
        **account_json(summary),
        "version": account.version,
        "openedAt": iso_or_none(account.opened_at),
        "disabledReason": account.disabled_reason,
    }


def generation_json(details: GenerationDetails) -> dict[str, Any]:
    """GET /api/generations/{id}."""
    generation = details.generation
    return {
        "_id": str(generation.id),
        "userId": generation.user_id,
        "status": generation.status,
        "productImages": list(generation.product_images),
        "modelImages": list(generation.model_images),
        "images": [dict(image) for image in generation.images],
        "style": generation.style,
        "aspectRatio": generation.aspect_ratio,
        "quality": generation.quality,
        "model": generation.model,
        "customPrompt": generation.custom_prompt,
        "parameters": dict(generation.parameters),
        "prompt": generation.prompt,
        "tokenCost": generation.token_cost,
        "createdAt": iso_or_none(generation.requested_at),
        "updatedAt": iso_or_none(generation.updated_at),
        "startedAt": iso_or_none(generation.started_at),
        "completedAt": iso_or_none(generation.completed_at),
        "resultImages": list(generation.result_images),
        "error": generation.error,
        "queuePosition": details.queue_position if generation.is_pending else None,
    }
