"""Event histories: a generation's for its owner, an account's for an admin.

Both are read from the aggregate's own events, oldest first, a page at a time: `limit` (1-1000,
default 100) and the opaque `cursor` a previous page handed out as `nextCursor`.
"""

from __future__ import annotations

import base64
import binascii
import re
from dataclasses import dataclass

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from application.history import HistoryPage
from domain.errors import FieldProblem
from web.auth import admin_principal, user_principal
from web.presenters import history_entry_json
from web.requests import atelier_of, generation_id_from
from web.responses import ApiJSONResponse
from web.routes.admin import on_existing_account
from web.schemas import invalid

PARAMETERS = ("limit", "cursor")
DEFAULT_LIMIT = 100
MAX_LIMIT = 1000
CURSOR_PREFIX = "e1:"  # a version, so the cursor's inside can change without breaking clients
DIGITS = re.compile(r"^[0-9]{1,6}$")


@dataclass(frozen=True)
class EventsQuery:
    limit: int
    after: int  # the page continues with the events after this aggregate version


def cursor_of(after: int | None) -> str | None:
    if after is None:
        return None
    return base64.urlsafe_b64encode(f"{CURSOR_PREFIX}{after}".encode()).decode().rstrip("=")


def version_of(cursor: str) -> int | None:
    """The version a cursor continues after, or None if it is not one of ours."""
    padded = cursor + "=" * (-len(cursor) % 4)
    try:
        text = base64.b64decode(padded, altchars=b"-_", validate=True).decode("ascii")
    except (binascii.Error, ValueError):
        return None
    number = text.removeprefix(CURSOR_PREFIX)
    if number == text or not number.isdigit() or len(number) > 18:
        return None
    return int(number)


def events_query_from(request: Request) -> EventsQuery:
    """`limit` and `cursor`, or 400 VALIDATION_ERROR naming each bad parameter."""
    params = request.query_params
    problems = [
        FieldProblem(name, "Unknown query parameter; use limit or cursor")
        for name in params
        if name not in PARAMETERS
    ]
    problems += [
        FieldProblem(name, f"{name} may be given only once")
        for name in PARAMETERS
        if len(params.getlist(name)) > 1
    ]
    raw_limit = params.get("limit") or str(DEFAULT_LIMIT)
    limit = int(raw_limit) if DIGITS.match(raw_limit) else 0
    if not 1 <= limit <= MAX_LIMIT:
        problems.append(FieldProblem("limit", f"limit must be an integer from 1 to {MAX_LIMIT}"))
    raw_cursor = params.get("cursor") or None
    after = 0 if raw_cursor is None else version_of(raw_cursor)
    if after is None:
        problems.append(FieldProblem("cursor", "cursor is not one this list handed out"))
    if problems:
        raise invalid(problems)
    assert after is not None
    return EventsQuery(limit, after)


def events_response(page: HistoryPage) -> Response:
    return ApiJSONResponse(
        {
            "success": True,
            "data": [history_entry_json(entry) for entry in page.entries],
            "nextCursor": cursor_of(page.next_after),
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
