"""GET /api/queue: how many generations wait, how many may, how many run, and since when."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from application.queries import ReadSide
from web.auth import as_active_user, authenticate
from web.errors import ApiError
from web.openapi import examples
from web.openapi.answers import Queue
from web.openapi.operation import Answer, ApiRoute, Operation
from web.openapi.refusals import READ_MODELS_MISSING, USER_ROUTE
from web.presenters import queue_json
from web.requests import in_thread
from web.responses import success
from web.schemas import require_safe_request_text


def read_side_of(request: Request) -> ReadSide:
    """503 on a store the views cannot follow (memory)."""
    read_side: ReadSide | None = request.app.state.read_side
    if read_side is None:
        raise ApiError(
            503, "SERVICE_UNAVAILABLE", "Read models need SQLite or PostgreSQL persistence."
        )
    return read_side


async def get_queue(request: Request) -> Response:
    """Admins and workers need no account; a user's check and the read take one trip."""
    principal = authenticate(request)
    if principal.role == "user":
        status = await as_active_user(
            request, lambda _: read_side_of(request).pending_queue.status()
        )
    else:
        require_safe_request_text(request)
        status = await in_thread(read_side_of(request).pending_queue.status)
    return success(queue_json(status))


GET_QUEUE = Operation(
    "GET",
    "getQueue",
    "The queue",
    "How many generations are pending against the capacity, how many are processing, and "
    "since when the oldest has waited. Admin and worker tokens need no account here.",
    tag="generations",
    roles=("user", "admin", "worker"),
    answers=(Answer(200, "The queue now.", Queue, example=examples.QUEUE),),
    refusals=(*USER_ROUTE, READ_MODELS_MISSING),
)
routes = [ApiRoute("/api/queue", get_queue, GET_QUEUE)]
