"""Small helpers every handler uses to reach the application and read its input."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from functools import partial
from typing import Any, TypeVar
from uuid import UUID

import anyio
import anyio.to_thread
from pydantic import BaseModel
from starlette.requests import Request

from application.service import Atelier
from application.telemetry import Telemetry
from web.body import parse_json_object, read_limited_body, require_json_media_type
from web.errors import ApiError
from web.health import HealthProbe
from web.schemas import validate

M = TypeVar("M", bound=BaseModel)
T = TypeVar("T")

# A store call that takes longer is answered 503 at once (API.md "Error body"); the thread is
# left to finish or fail on its own, and whatever it does is what the store then says.
STORE_DEADLINE_SECONDS = 5.0
STORE_RETRY_AFTER_SECONDS = 5


async def in_thread(call: Callable[..., T], *args: Any) -> T:
    """`call(*args)` in a worker thread, or 503 SERVICE_UNAVAILABLE past the deadline."""
    return await within_store_deadline(thread_call(call, *args))


async def thread_call(
    call: Callable[..., T], *args: Any, limiter: anyio.CapacityLimiter | None = None
) -> T:
    """`call(*args)` in a worker thread (no deadline of its own); the store's pool unless
    `limiter` names another."""
    return await anyio.to_thread.run_sync(
        partial(call, *args), abandon_on_cancel=True, limiter=limiter
    )


def network_threads_of(request: Request) -> anyio.CapacityLimiter:
    """The pool for calls that wait on other hosts (image checks), apart from the store's."""
    limiter: anyio.CapacityLimiter = request.app.state.network_threads
    return limiter


async def within_store_deadline(work: Awaitable[T]) -> T:
    """`work`'s answer, or 503 SERVICE_UNAVAILABLE past the deadline."""
    with anyio.move_on_after(STORE_DEADLINE_SECONDS):
        return await work
    raise ApiError(
        503,
        "SERVICE_UNAVAILABLE",
        "The service is temporarily unavailable. Please retry shortly.",
        headers={"Retry-After": str(STORE_RETRY_AFTER_SECONDS)},
    )


def atelier_of(request: Request) -> Atelier:
    atelier: Atelier = request.app.state.atelier
    return atelier


def telemetry_of(request: Request) -> Telemetry:
    telemetry: Telemetry = request.app.state.telemetry
    return telemetry


def health_probe_of(request: Request) -> HealthProbe:
    probe: HealthProbe = request.app.state.health_probe
    return probe


def max_request_bytes_of(request: Request) -> int:
    limit: int = request.app.state.max_request_bytes
    return limit


async def json_body(request: Request) -> dict[str, Any]:
    """An absent body is `{}`."""
    raw = await read_limited_body(request, max_request_bytes_of(request))
    if not raw.strip():
        return {}
    return json_object_from(request, raw)


def json_object_from(request: Request, raw: bytes) -> dict[str, Any]:
    """The body as a JSON object, after its media type (415) and its syntax (400)."""
    require_json_media_type(request.headers.get("content-type"), raw)
    return parse_json_object(raw)


async def body_as(request: Request, model: type[M]) -> M:
    return validate(model, await json_body(request))


def generation_id_from(request: Request) -> UUID:
    """A malformed id is as unknown as a missing one (404)."""
    try:
        return UUID(request.path_params["generation_id"])
    except ValueError:
        raise ApiError(404, "NOT_FOUND", "Generation not found") from None
