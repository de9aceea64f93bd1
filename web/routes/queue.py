"""GET /api/queue: how many generations wait, how many may, how many run, and since when."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from application.principals import Principal
from application.queries import ReadSide
from web.auth import authenticate
from web.errors import ApiError
from web.presenters import queue_json
from web.requests import atelier_of, in_thread
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


async def queue_reader(request: Request) -> Principal:
    """Admins and workers need no account."""
    principal = authenticate(request)
    if principal.role == "user":
        await in_thread(atelier_of(request).require_active_account, principal.user_id)
    require_safe_request_text(request)
    return principal


async def get_queue(request: Request) -> Response:
    await queue_reader(request)
    status = await in_thread(read_side_of(request).pending_queue.status)
    return success(queue_json(status))


routes = [Route("/api/queue", get_queue, methods=["GET"])]
