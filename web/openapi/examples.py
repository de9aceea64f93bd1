"""The worked example the reference follows: alice submits one shirt, a worker completes it."""

from __future__ import annotations

import json
from typing import Any

from domain.prompts import build_prompt

GENERATION_ID = "0b8e3f9a-4c52-4d8f-9a43-2f6a1c7e5d10"
PRODUCT_URL = (
    "https://res.cloudinary.com/demo/image/upload/c_fill,w_400,h_600/v1699/shirts/blue-oxford.jpg"
)
RESULT_URL = "https://res.cloudinary.com/demo/image/upload/v1700/atelier/alice/result-1.png"
SUBMISSION = {
    "productImages": [PRODUCT_URL],
    "style": "realistic",
    "aspectRatio": "1:1",
    "quality": "high",
    "model": "gpt-4.1-dalle-3",
    "customPrompt": "on a sunny street",
}
RECEIPT = {
    "_id": GENERATION_ID,
    "status": "pending",
    "estimatedCost": 2,
    "estimatedTime": "1-2 minutes",
    "queuePosition": 1,
}
GENERATION: dict[str, Any] = {
    "_id": GENERATION_ID,
    "userId": "alice",
    "status": "pending",
    "productImages": [PRODUCT_URL],
    "modelImages": [],
    "images": [
        {
            "url": PRODUCT_URL,
            "role": "product",
            "order": 0,
            "isPrimary": True,
            "publicId": "shirts/blue-oxford",
            "format": "jpg",
            "width": 400,
            "height": 600,
        }
    ],
    "style": "realistic",
    "aspectRatio": "1:1",
    "quality": "high",
    "model": "gpt-4.1-dalle-3",
    "customPrompt": "on a sunny street",
    "parameters": {
        "guidance_scale": 7.5,
        "num_inference_steps": 50,
        "strength": 0.8,
        "seed": None,
    },
    "prompt": build_prompt("realistic", "high", "on a sunny street"),
    "tokenCost": 2,
    "createdAt": "2026-11-23T12:00:00.000Z",
    "updatedAt": "2026-11-23T12:00:00.000Z",
    "startedAt": None,
    "completedAt": None,
    "resultImages": [],
    "error": None,
    "queuePosition": 1,
}
CANCELLED = {
    **GENERATION,
    "status": "cancelled",
    "updatedAt": "2026-11-23T12:01:00.000Z",
    "queuePosition": None,
}
CLAIMED = {
    **GENERATION,
    "status": "processing",
    "updatedAt": "2026-11-23T12:00:05.000Z",
    "startedAt": "2026-11-23T12:00:05.000Z",
    "queuePosition": None,
    "workerId": "worker-1",
    "leaseExpiresAt": "2026-11-23T12:10:05.000Z",
    "attempt": 1,
}
COMPLETED = {
    **CLAIMED,
    "status": "completed",
    "updatedAt": "2026-11-23T12:01:10.000Z",
    "completedAt": "2026-11-23T12:01:10.000Z",
    "resultImages": [RESULT_URL],
}
FAILED = {
    **CLAIMED,
    "status": "failed",
    "updatedAt": "2026-11-23T12:01:10.000Z",
    "completedAt": "2026-11-23T12:01:10.000Z",
    "error": "the model refused the prompt",
}
HEARTBEAT = {
    "_id": GENERATION_ID,
    "workerId": "worker-1",
    "leaseExpiresAt": "2026-11-23T12:11:00.000Z",
    "cancelled": False,
}
RATE_LIMIT = {"limit": 10, "used": 1, "remaining": 9, "resetAt": "2026-11-23T13:00:00.000Z"}
ACCOUNT = {
    "userId": "alice",
    "status": "active",
    "balance": 5,
    "reserved": 2,
    "available": 3,
    "rateLimit": RATE_LIMIT,
}
ADMIN_ACCOUNT = {
    **ACCOUNT,
    "reserved": 0,
    "available": 5,
    "rateLimit": {"limit": 10, "used": 0, "remaining": 10, "resetAt": None},
    "version": 1,
    "openedAt": "2026-11-23T11:59:00.000Z",
    "disabledReason": None,
}
GRANTED = {**ADMIN_ACCOUNT, "balance": 8, "available": 8, "version": 2}
DISABLED = {**ADMIN_ACCOUNT, "status": "disabled", "version": 2, "disabledReason": "chargeback"}
QUEUE = {"depth": 1, "capacity": 50, "processing": 0, "oldestPendingAt": "2026-11-23T12:00:00.000Z"}
STATS = {
    "generations": {
        "pending": 1,
        "processing": 0,
        "completed": 0,
        "failed": 0,
        "cancelled": 0,
        "expired": 0,
    },
    "tokens": {"granted": 5, "reserved": 2, "captured": 0, "released": 0},
    "queue": QUEUE,
    "projections": [{"name": "pending_queue", "position": 4, "lag": 0}],
    "generator": {"name": "dry-run", "circuit": "closed"},
    "webhooks": {"pending": 0, "succeeded": 3, "failed": 0},
}
GENERATION_EVENTS = [
    {
        "type": "GenerationRequested",
        "version": 1,
        "timestamp": "2026-11-23T12:00:00.000Z",
        "data": {"userId": "alice", "style": "realistic", "quality": "high", "tokenCost": 2},
    }
]
ACCOUNT_EVENTS = [
    {
        "type": "AccountOpened",
        "version": 1,
        "timestamp": "2026-11-23T11:59:00.000Z",
        "data": {"userId": "alice", "tokens": 5},
    }
]

STATUS_EVENT = {
    "id": "1",
    "event": "status",
    "data": json.dumps(GENERATION, ensure_ascii=False, separators=(",", ":")),
}
ACTIVITY = {
    "buckets": [
        {
            "start": "2026-11-23T12:00:00.000Z",
            "submitted": 1,
            "completed": 0,
            "failed": 0,
            "cancelled": 0,
            "expired": 0,
            "tokensCaptured": 0,
        },
        {
            "start": "2026-11-23T12:01:00.000Z",
            "submitted": 0,
            "completed": 1,
            "failed": 0,
            "cancelled": 0,
            "expired": 0,
            "tokensCaptured": 2,
        },
    ]
}
TOP_USERS = [{"userId": "alice", "generations": 1, "tokensCaptured": 2}]
NEAR_LIMIT = [
    {
        "userId": "alice",
        "used": 9,
        "limit": 10,
        "remaining": 1,
        "resetAt": "2026-11-23T13:00:00.000Z",
    }
]
WEBHOOK_ID = "6d1f0a2e-3b4c-4d5e-8f70-81a2b3c4d5e6"
MESSAGE_ID = "9a8b7c6d-5e4f-4a3b-8c2d-1e0f9a8b7c6d"
WEBHOOK_URL = "http://127.0.0.1:9/atelier-hooks"  # the discard port: nothing listens there
WEBHOOK_BODY = {
    "url": WEBHOOK_URL,
    "events": ["generation.completed", "generation.failed"],
    "description": "the shop's order service",
}
WEBHOOK = {
    "id": WEBHOOK_ID,
    "url": WEBHOOK_URL,
    "events": ["generation.completed", "generation.failed"],
    "description": "the shop's order service",
    "enabled": True,
    "createdAt": "2026-11-23T11:58:00.000Z",
}
CREATED_WEBHOOK = {**WEBHOOK, "secret": "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"}
WEBHOOK_MESSAGE = {
    "id": MESSAGE_ID,
    "type": "generation.completed",
    "generationId": GENERATION_ID,
    "status": "failed",
    "createdAt": "2026-11-23T12:01:10.000Z",
    "nextAttemptAt": None,
    "attempts": [
        {
            "at": "2026-11-23T12:01:10.100Z",
            "statusCode": None,
            "error": "connection refused",
            "durationMs": 3,
        }
    ],
}
RETRIED_MESSAGE = {
    "id": MESSAGE_ID,
    "status": "pending",
    "nextAttemptAt": "2026-11-23T12:30:00.000Z",
}
METRICS = (
    "# HELP atelier_http_requests_total HTTP requests answered.\n"
    "# TYPE atelier_http_requests_total counter\n"
    'atelier_http_requests_total{method="GET",route="/api/generations/{generation_id}",'
    'status="200"} 3.0\n'
)
