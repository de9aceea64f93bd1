"""The webhook event types, and which generation event each one is sent for."""

from __future__ import annotations

from domain.generations import Generation

CREATED = "generation.created"
WEBHOOK_TYPES = (
    CREATED,
    "generation.processing",
    "generation.completed",
    "generation.failed",
    "generation.cancelled",
    "generation.expired",
)
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
