"""POST /api/generate (submit a generation) and GET /api/generate (health), as the plan has them."""

from __future__ import annotations

import logging

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from web.auth import user_with_account
from web.body import parse_json_object, read_limited_body
from web.presenters import rate_limit_headers, receipt_json
from web.requests import atelier_of, settings_of
from web.responses import ApiJSONResponse, iso_timestamp, success
from web.schemas import generation_request_from, idempotency_key_from

logger = logging.getLogger(__name__)


async def submit_generation(request: Request) -> Response:
    """The contract's checks in order: authentication and account, switch, size, JSON and
    schema here; the rest (prompt, model, images, rate limit, tokens, queue) in the use case."""
    atelier = atelier_of(request)
    principal, account = await user_with_account(request)
    atelier.require_submissions_open()
    raw = await read_limited_body(request, settings_of(request).max_request_bytes)
    body = parse_json_object(raw)
    key = idempotency_key_from(request)
    generation_request = generation_request_from(body, request)
    receipt = await run_in_threadpool(
        atelier.submit_generation, principal.user_id, generation_request, key, account
    )
    headers = {
        "Location": f"/api/generations/{receipt.generation_id}",
        **rate_limit_headers(receipt.rate_limit),
    }
    if receipt.replayed:
        headers["Idempotent-Replayed"] = "true"
    return success(receipt_json(receipt), 201, headers)


async def health(request: Request) -> Response:
    """Healthy when the event store answers. No authentication."""
    try:
        await run_in_threadpool(atelier_of(request).ping)
    except Exception:
        logger.exception("health check: the event store did not answer")
        body = {
            "status": "unhealthy",
            "error": "Event store is not reachable",
            "timestamp": iso_timestamp(),
        }
        return ApiJSONResponse(body, 503)
    return ApiJSONResponse({"status": "healthy", "timestamp": iso_timestamp()})


routes = [
    Route("/api/generate", submit_generation, methods=["POST"]),
    Route("/api/generate", health, methods=["GET"]),
]
