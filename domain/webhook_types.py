"""The webhook event types, and which generation event each one is sent for."""

from __future__ import annotations

from typing import Literal, get_args

from domain.generations import Generation

WebhookType = Literal[
    "generation.created",
    "generation.processing",
    "generation.completed",
    "generation.failed",
    "generation.cancelled",
    "generation.expired",
]
WEBHOOK_TYPES: tuple[WebhookType, ...] = get_args(WebhookType)
CREATED: WebhookType = "generation.created"
# A requeue, a heartbeat and an image link change no webhook-visible status: none is sent.
TYPE_OF_EVENT: dict[type[Generation.Event], str] = {
    Generation.GenerationRequested: CREATED,
    Generation.GenerationStarted: "generation.processing",
    Generation.GenerationCompleted: "generation.completed",
    Generation.GenerationFailed: "generation.failed",
    Generation.GenerationCancelled: "generation.cancelled",
    Generation.ProcessingCancelled: "generation.cancelled",
    Generation.GenerationExpired: "generation.expired",
}
