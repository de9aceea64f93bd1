"""POST /api/generate (submit a generation) and GET /api/generate (health), as the plan has them."""

from __future__ import annotations

import logging

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from application.principals import Principal
from application.views import Receipt
from domain.requests import GenerationRequest
from web.auth import authenticate
from web.body import read_limited_body
from web.errors import ApiError, request_id_of
from web.presenters import rate_limit_headers, receipt_json
from web.requests import (
    atelier_of,
    health_probe_of,
    in_thread,
    json_object_from,
    max_request_bytes_of,
)
from web.responses import ApiJSONResponse, iso_timestamp, success
from web.schemas import (
    generation_request_from,
    idempotency_key_from,
    require_safe_request_text,
)

logger = logging.getLogger(__name__)


async def submit_generation(request: Request) -> Response:
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
    receipt = await in_thread(_submit, request, principal, raw, too_large)
    headers = {
        "Location": f"/api/generations/{receipt.generation_id}",
        **rate_limit_headers(receipt.rate_limit),
    }
    if receipt.replayed:
        headers["Idempotent-Replayed"] = "true"
    return success(receipt_json(receipt), 201, headers)


def _submit(
    request: Request, principal: Principal, raw: bytes, too_large: ApiError | None
) -> Receipt:
    """Everything after reading the body, in one worker thread."""

    def read() -> tuple[GenerationRequest, str | None]:
        if too_large is not None:
            raise too_large
        body = json_object_from(request, raw)
        require_safe_request_text(request)
        key = idempotency_key_from(request)
        return generation_request_from(body, request), key

    return atelier_of(request).submit_read(principal.user_id, read, request_id_of(request))


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


routes = [Route("/api/generate", generate, methods=["GET", "POST"])]
