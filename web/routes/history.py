"""Event histories: a generation's for its owner, an account's for an admin.

Both are read from the aggregate's own events, oldest first, a page at a time: `limit` (1-1000,
default 100) and the opaque `cursor` a previous page handed out as `nextCursor`.
"""

from __future__ import annotations

from dataclasses import dataclass

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from application.history import HistoryPage
from domain.errors import FieldProblem
from web.auth import admin_principal, user_principal
from web.paging import Cursors, paging_from
from web.presenters import history_entry_json
from web.requests import atelier_of, generation_id_from
from web.responses import ApiJSONResponse
from web.routes.admin import on_existing_account
from web.schemas import invalid

PARAMETERS = ("limit", "cursor")
DEFAULT_LIMIT = 100
MAX_LIMIT = 1000
CURSORS = Cursors("e1:")


@dataclass(frozen=True)
class EventsQuery:
    limit: int
    after: int  # the page continues with the events after this aggregate version


def events_query_from(request: Request) -> EventsQuery:
    """`limit` and `cursor`, or 400 VALIDATION_ERROR naming each bad parameter."""
    problems: list[FieldProblem] = []
    paging = paging_from(request, CURSORS, PARAMETERS, DEFAULT_LIMIT, MAX_LIMIT, problems)
    if problems:
        raise invalid(problems)
    return EventsQuery(paging.limit, paging.position or 0)


def events_response(page: HistoryPage) -> Response:
    return ApiJSONResponse(
        {
            "success": True,
            "data": [history_entry_json(entry) for entry in page.entries],
            "nextCursor": CURSORS.encode(page.next_after),
        }
    )


async def generation_events(request: Request) -> Response:
    """GET /api/generations/{id}/events: the owner's generation's events; 404 for anyone else."""
    principal = await user_principal(request)
    generation_id = generation_id_from(request)
    query = events_query_from(request)
    page = await run_in_threadpool(
        atelier_of(request).generation_history,
        principal.user_id,
        generation_id,
        query.after,
        query.limit,
    )
    return events_response(page)


async def account_events(request: Request) -> Response:
    """GET /api/admin/accounts/{userId}/events: an account's events; 404 if it has none."""
    admin_principal(request)
    query = events_query_from(request)
    page = await on_existing_account(
        atelier_of(request).account_history,
        request.path_params["user_id"],
        query.after,
        query.limit,
    )
    return events_response(page)


routes = [
    Route("/api/generations/{generation_id}/events", generation_events, methods=["GET"]),
    Route("/api/admin/accounts/{user_id}/events", account_events, methods=["GET"]),
]
