"""The contract's answers as pydantic models: what /openapi.json documents and clients may rely
on. The presenters build these shapes; the fuzz test and the typed client check they match."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field
from pydantic.json_schema import SkipJsonSchema

from domain.requests import AspectRatio, Quality, Style
from domain.webhook_types import WebhookType

CLOSED = ConfigDict(extra="forbid")


def _absent_when_none(schema: dict[str, Any]) -> None:
    """For a field left out of the answer, rather than sent as null: no `default: null`."""
    schema.pop("default", None)


ErrorCode = Literal[
    "AUTHENTICATION_REQUIRED",
    "ACCOUNT_DISABLED",
    "FORBIDDEN",
    "NOT_FOUND",
    "METHOD_NOT_ALLOWED",
    "VALIDATION_ERROR",
    "IMAGE_VALIDATION_ERROR",
    "MODEL_ERROR",
    "INSUFFICIENT_TOKENS",
    "INVALID_STATE",
    "ACCOUNT_EXISTS",
    "IDEMPOTENCY_KEY_REUSED",
    "REQUEST_TIMEOUT",
    "REQUEST_TOO_LARGE",
    "RATE_LIMIT_EXCEEDED",
    "UNSUPPORTED_MEDIA_TYPE",
    "QUEUE_FULL",
    "SERVICE_UNAVAILABLE",
    "SERVER_ERROR",
]
Status = Literal["pending", "processing", "completed", "failed", "cancelled", "expired"]


class FieldError(BaseModel):
    model_config = CLOSED

    field: str = Field(description="The offending field's path as sent: `productImages.2`.")
    message: str


class ErrorBody(BaseModel):
    """Every answer outside 2xx."""

    model_config = CLOSED

    success: Literal[False]
    error: str = Field(description="What went wrong, for a person.")
    code: ErrorCode
    details: str | SkipJsonSchema[None] = Field(None, json_schema_extra=_absent_when_none)
    validation_errors: Annotated[list[FieldError], Field(max_length=20)] | SkipJsonSchema[None] = (
        Field(None, alias="validationErrors", json_schema_extra=_absent_when_none)
    )
    timestamp: datetime
    request_id: str = Field(alias="requestId", description="Equals the X-Request-ID header.")


class Healthy(BaseModel):
    model_config = CLOSED

    status: Literal["healthy"]
    timestamp: datetime


class Unhealthy(BaseModel):
    model_config = CLOSED

    status: Literal["unhealthy"]
    error: str
    timestamp: datetime


class Receipt(BaseModel):
    """A submission's answer."""

    model_config = CLOSED

    id: str = Field(alias="_id", description="The generation's id (a UUID).")
    status: Literal["pending"]
    estimated_cost: int = Field(alias="estimatedCost", description="Tokens reserved.")
    estimated_time: Literal["30-60 seconds", "1-2 minutes", "2-3 minutes"] = Field(
        alias="estimatedTime"
    )
    queue_position: int = Field(alias="queuePosition", ge=1, description="1 is next.")


class LinkedImage(BaseModel):
    model_config = CLOSED

    url: str
    role: Literal["product", "model", "result"]
    order: int
    is_primary: bool = Field(alias="isPrimary")
    public_id: str = Field(alias="publicId")
    format: str | None
    width: int | None
    height: int | None


class SamplerParameters(BaseModel):
    model_config = CLOSED

    guidance_scale: float
    num_inference_steps: int
    strength: float
    seed: int | None


class Generation(BaseModel):
    model_config = CLOSED

    id: str = Field(alias="_id")
    user_id: str = Field(alias="userId")
    status: Status
    product_images: list[str] = Field(alias="productImages")
    model_images: list[str] = Field(alias="modelImages")
    images: list[LinkedImage]
    style: Style
    aspect_ratio: AspectRatio = Field(alias="aspectRatio")
    quality: Quality
    model: str
    custom_prompt: str | None = Field(alias="customPrompt")
    parameters: SamplerParameters
    prompt: str
    token_cost: int = Field(alias="tokenCost")
    created_at: datetime = Field(alias="createdAt")
    updated_at: datetime = Field(alias="updatedAt")
    started_at: datetime | None = Field(alias="startedAt")
    completed_at: datetime | None = Field(alias="completedAt")
    result_images: list[str] = Field(alias="resultImages")
    error: str | None
    queue_position: int | None = Field(alias="queuePosition", description="Set while pending.")


class WorkerGeneration(Generation):
    """A generation as its worker sees it: with the lease."""

    worker_id: str | None = Field(alias="workerId")
    lease_expires_at: datetime | None = Field(alias="leaseExpiresAt")
    attempt: int


class Heartbeat(BaseModel):
    model_config = CLOSED

    id: str = Field(alias="_id")
    worker_id: str = Field(alias="workerId")
    lease_expires_at: datetime | None = Field(alias="leaseExpiresAt")
    cancelled: bool = Field(description="True when the owner cancelled it: stop working on it.")


class HistoryEntry(BaseModel):
    model_config = CLOSED

    type: str = Field(description="The event's name: `GenerationRequested`, `TokensGranted`...")
    version: int = Field(ge=1)
    timestamp: datetime
    data: dict[str, Any]


class RateLimit(BaseModel):
    model_config = CLOSED

    limit: int | None = Field(description="null when rate limiting is off.")
    used: int
    remaining: int | None
    reset_at: datetime | None = Field(alias="resetAt")


class Account(BaseModel):
    model_config = CLOSED

    user_id: str = Field(alias="userId")
    status: Literal["active", "disabled"]
    balance: int
    reserved: int
    available: int
    rate_limit: RateLimit = Field(alias="rateLimit")


class AdminAccount(Account):
    version: int
    opened_at: datetime | None = Field(alias="openedAt")
    disabled_reason: str | None = Field(alias="disabledReason")


class Queue(BaseModel):
    model_config = CLOSED

    depth: int = Field(description="Generations pending now.")
    capacity: int = Field(description="QUEUE_MAX_SIZE.")
    processing: int
    oldest_pending_at: datetime | None = Field(alias="oldestPendingAt")


class GenerationCounts(BaseModel):
    model_config = CLOSED

    pending: int
    processing: int
    completed: int
    failed: int
    cancelled: int
    expired: int


class TokenTotals(BaseModel):
    model_config = CLOSED

    granted: int
    reserved: int
    captured: int
    released: int


class ProjectionState(BaseModel):
    model_config = CLOSED

    name: str
    position: int
    lag: int
    failing: bool | SkipJsonSchema[None] = Field(None, json_schema_extra=_absent_when_none)
    error: str | None = None
    failed_at_position: int | None = Field(None, alias="failedAtPosition")
    failing_since: datetime | None = Field(None, alias="failingSince")


class GeneratorState(BaseModel):
    model_config = CLOSED

    name: str = Field(description="GENERATOR: the image model workers call.")
    circuit: Literal["closed", "open", "half-open"] = Field(
        description="Its shared circuit: open after failures in a row, half-open for one trial."
    )


class WebhookCounts(BaseModel):
    model_config = CLOSED

    pending: int
    succeeded: int
    failed: int


class Stats(BaseModel):
    model_config = CLOSED

    generations: GenerationCounts
    tokens: TokenTotals
    queue: Queue
    projections: list[ProjectionState]
    generator: GeneratorState
    webhooks: WebhookCounts = Field(description="Webhook messages by delivery status.")


class ActivityMinute(BaseModel):
    model_config = CLOSED

    start: datetime = Field(description="The minute's first instant.")
    submitted: int
    completed: int
    failed: int
    cancelled: int
    expired: int
    tokens_captured: int = Field(alias="tokensCaptured")


class Activity(BaseModel):
    model_config = CLOSED

    buckets: list[ActivityMinute] = Field(description="One per minute, oldest first.")


class UserActivity(BaseModel):
    model_config = CLOSED

    user_id: str = Field(alias="userId")
    generations: int = Field(description="Generations accepted in the window.")
    tokens_captured: int = Field(alias="tokensCaptured")


class UserNearLimit(BaseModel):
    model_config = CLOSED

    user_id: str = Field(alias="userId")
    used: int
    limit: int
    remaining: int = Field(ge=0)
    reset_at: datetime = Field(alias="resetAt")


MessageStatus = Literal["pending", "succeeded", "failed"]


class WebhookEndpoint(BaseModel):
    model_config = CLOSED

    id: str = Field(description="The endpoint's id (a UUID).")
    url: str
    events: list[WebhookType]
    description: str
    enabled: bool
    created_at: datetime = Field(alias="createdAt")
    secret: str | SkipJsonSchema[None] = Field(
        None,
        description="`whsec_...`: only in the answer that created it.",
        json_schema_extra=_absent_when_none,
    )


class DeliveryAttempt(BaseModel):
    model_config = CLOSED

    at: datetime
    status_code: int | None = Field(alias="statusCode")
    error: str | None
    duration_ms: int = Field(alias="durationMs")


class WebhookMessage(BaseModel):
    model_config = CLOSED

    id: str
    type: WebhookType
    generation_id: str = Field(alias="generationId")
    status: MessageStatus
    created_at: datetime = Field(alias="createdAt")
    next_attempt_at: datetime | None = Field(alias="nextAttemptAt")
    attempts: list[DeliveryAttempt]


class RetriedMessage(BaseModel):
    model_config = CLOSED

    id: str
    status: MessageStatus
    next_attempt_at: datetime | None = Field(alias="nextAttemptAt")
