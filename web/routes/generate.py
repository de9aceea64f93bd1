"""POST /api/generate (submit a generation) and GET /api/generate (health), as the plan has them."""

from __future__ import annotations

import logging

from starlette.requests import Request
from starlette.responses import Response

from application.principals import Principal
from application.submissions import Submission
from application.views import Receipt
from domain.requests import GenerationRequest
from web.auth import authenticate
from web.body import read_limited_body
from web.errors import ApiError, error_code_of, request_id_of
from web.openapi import answers, examples
from web.openapi.operation import Answer, ApiRoute, Link, Operation, Refusal
from web.openapi.parameters import IDEMPOTENCY_KEY
from web.openapi.refusals import JSON_BODY, USER_ROUTE
from web.presenters import rate_limit_headers, receipt_json
from web.requests import (
    atelier_of,
    health_probe_of,
    json_object_from,
    max_request_bytes_of,
    network_threads_of,
    telemetry_of,
    thread_call,
    within_store_deadline,
)
from web.responses import ApiJSONResponse, iso_timestamp, success
from web.schemas import (
    GenerateBody,
    generation_request_from,
    idempotency_key_from,
    require_safe_request_text,
)

logger = logging.getLogger(__name__)


async def submit_generation(request: Request) -> Response:
    """Each submission's outcome is counted: accepted, replayed, or the refusal's code."""
    telemetry = telemetry_of(request)
    try:
        receipt = await _receive_and_submit(request)
    except Exception as refusal:
        telemetry.submission_decided(error_code_of(refusal))
        raise
    telemetry.submission_decided("replayed" if receipt.replayed else "accepted")
    headers = {
        "Location": f"/api/generations/{receipt.generation_id}",
        **rate_limit_headers(receipt.rate_limit),
    }
    if receipt.replayed:
        headers["Idempotent-Replayed"] = "true"
    return success(receipt_json(receipt), 201, headers)


async def _receive_and_submit(request: Request) -> Receipt:
    """Reads the body first, but answers 413 in the contract's order (docs/architecture.md)."""
    principal = authenticate(request)
    try:
        raw, too_large = (
            await read_limited_body(request, max_request_bytes_of(request)),
            None,
        )
    except ApiError as refusal:
        if refusal.status_code != 413:
            raise
        raw, too_large = b"", refusal
    return await within_store_deadline(_submit(request, principal, raw, too_large))


async def _submit(
    request: Request, principal: Principal, raw: bytes, too_large: ApiError | None
) -> Receipt:
    """The checks in a worker thread; the group commit's answer awaited with no thread held
    (a thread per waiting submission made reads queue behind them: docs/benchmarks.md)."""
    prepared = await thread_call(_prepare, request, principal, raw, too_large)
    if isinstance(prepared, Receipt):
        return prepared
    atelier = atelier_of(request)
    if atelier.verifies_images:  # slow hosts wait in the network pool, not the store's
        await thread_call(atelier.verify_images, prepared, limiter=network_threads_of(request))
    return await atelier.commit_submission(prepared)


def _prepare(
    request: Request, principal: Principal, raw: bytes, too_large: ApiError | None
) -> Receipt | Submission:

    def read() -> tuple[GenerationRequest, str | None]:
        if too_large is not None:
            raise too_large
        body = json_object_from(request, raw)
        require_safe_request_text(request)
        key = idempotency_key_from(request)
        return generation_request_from(body, request), key

    return atelier_of(request).prepare_submission(principal.user_id, read, request_id_of(request))


async def health(request: Request) -> Response:
    """Within 2 s whatever the store does (web/health.py); the cause only in the log."""
    if await health_probe_of(request).problem() is not None:
        body = {
            "status": "unhealthy",
            "error": "Event store is not reachable",
            "timestamp": iso_timestamp(),
        }
        return ApiJSONResponse(body, 503)
    return ApiJSONResponse({"status": "healthy", "timestamp": iso_timestamp()})


async def generate(request: Request) -> Response:
    """One route for both methods, so a 405 here allows GET as well as POST."""
    if request.method == "POST":
        return await submit_generation(request)
    return await health(request)


SUBMIT = Operation(
    "POST",
    "submitGeneration",
    "Submit a generation",
    "Records the request as `pending`, reserves its tokens (standard 1, high 2, ultra 2) and "
    "answers its id, cost, time estimate and queue position. Checks run in this order, and the "
    "first that fails answers: authentication, account, size, JSON and schema (and the "
    "Idempotency-Key), prompt, model, image URL format, rate limit, image reachability, tokens, "
    "queue. Image URLs are `https://res.cloudinary.com/<cloud>/image/upload/...` delivery URLs, "
    "each at most 2,048 characters, none repeated. The legacy single-image fields "
    "`productImage` and `modelImage` (strings) are read as one-item lists.",
    tag="generations",
    roles=("user",),
    parameters=(IDEMPOTENCY_KEY,),
    body=GenerateBody,
    body_example=examples.SUBMISSION,
    answers=(
        Answer(
            201,
            "Accepted: pending, its tokens reserved. `Location` is its path.",
            answers.Receipt,
            example=examples.RECEIPT,
            headers=(
                "Location",
                "RateLimit-Limit",
                "RateLimit-Remaining",
                "RateLimit-Reset",
                "Idempotent-Replayed",
            ),
            required_headers=("Location",),
            links=tuple(
                Link(operation_id, {"generation_id": "$response.body#/data/_id"})
                for operation_id in ("getGeneration", "getGenerationEvents", "cancelGeneration")
            ),
        ),
    ),
    refusals=(
        *USER_ROUTE,
        *JSON_BODY,
        Refusal(400, "VALIDATION_ERROR", "`customPrompt` holds a word of BANNED_WORDS"),
        Refusal(400, "MODEL_ERROR", "the model is unknown or disabled, or lacks the aspect ratio"),
        Refusal(
            400,
            "IMAGE_VALIDATION_ERROR",
            "an image URL breaks the Cloudinary URL rules, or (VERIFY_IMAGE_URLS) cannot be "
            "reached",
        ),
        Refusal(
            400,
            "INSUFFICIENT_TOKENS",
            "fewer tokens available than the generation costs; `details` says how many more",
        ),
        Refusal(422, "IDEMPOTENCY_KEY_REUSED", "the Idempotency-Key came with another body"),
        Refusal(
            429,
            "RATE_LIMIT_EXCEEDED",
            "MAX_REQUESTS_PER_HOUR accepted in the rolling hour",
            headers=("Retry-After", "RateLimit-Limit", "RateLimit-Remaining", "RateLimit-Reset"),
        ),
        Refusal(503, "QUEUE_FULL", "QUEUE_MAX_SIZE generations are pending", ("Retry-After",)),
        Refusal(503, "SERVICE_UNAVAILABLE", "submissions are switched off (GENERATION_ENABLED)"),
    ),
)
HEALTH = Operation(
    "GET",
    "checkHealth",
    "Health",
    "Whether the event store answers. Not enveloped: its shape is the product plan's.",
    tag="service",
    answers=(
        Answer(
            200,
            "The event store answers.",
            answers.Healthy,
            "bare",
            {"status": "healthy", "timestamp": "2026-11-23T12:00:00.000Z"},
        ),
        Answer(
            503,
            "The event store does not answer.",
            answers.Unhealthy,
            "bare",
            {
                "status": "unhealthy",
                "error": "Event store is not reachable",
                "timestamp": "2026-11-23T12:00:00.000Z",
            },
        ),
    ),
)
routes = [ApiRoute("/api/generate", generate, SUBMIT, HEALTH)]
