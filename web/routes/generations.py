"""A user's generations: one by id (from its aggregate), or the list (from the read models)."""

from __future__ import annotations

import base64
import binascii
import re
from dataclasses import dataclass

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from domain.errors import FieldProblem
from domain.generations import CANCELLED, COMPLETED, EXPIRED, FAILED, PENDING, PROCESSING
from web.auth import user_principal
from web.presenters import generation_json, generation_record_json
from web.requests import atelier_of, generation_id_from
from web.responses import ApiJSONResponse, success
from web.routes.queue import read_models_of
from web.schemas import invalid

STATUSES = (PENDING, PROCESSING, COMPLETED, FAILED, CANCELLED, EXPIRED)
LIST_PARAMETERS = ("status", "limit", "cursor")
DEFAULT_LIMIT = 20
MAX_LIMIT = 100
CURSOR_PREFIX = "g1:"  # a version, so the cursor's inside can change without breaking clients
DIGITS = re.compile(r"^[0-9]{1,6}$")


async def get_generation(request: Request) -> Response:
    principal = await user_principal(request)
    generation_id = generation_id_from(request)
    details = await run_in_threadpool(
        atelier_of(request).get_generation, principal.user_id, generation_id
    )
    return success(generation_json(details))


@dataclass(frozen=True)
class ListQuery:
    status: str | None
    limit: int
    before: int | None  # the list continues with generations accepted before this position


def cursor_of(before: int | None) -> str | None:
    """An opaque cursor for the next page (None: there is none)."""
    if before is None:
        return None
    return base64.urlsafe_b64encode(f"{CURSOR_PREFIX}{before}".encode()).decode().rstrip("=")


def position_of(cursor: str) -> int | None:
    """The list position a cursor continues before, or None if it is not one of ours."""
    padded = cursor + "=" * (-len(cursor) % 4)
    try:
        text = base64.b64decode(padded, altchars=b"-_", validate=True).decode("ascii")
    except (binascii.Error, ValueError):
        return None
    number = text.removeprefix(CURSOR_PREFIX)
    if number == text or not number.isdigit() or len(number) > 19:
        return None
    return int(number) or None


def list_query_from(request: Request) -> ListQuery:
    """`status`, `limit` and `cursor`, or 400 VALIDATION_ERROR naming each bad parameter.

    An empty value counts as absent (`?status=&limit=` is the list's default); an unknown or
    repeated parameter is refused, as unknown body fields are.
    """
    params = request.query_params
    problems = [
        FieldProblem(name, "Unknown query parameter; use status, limit or cursor")
        for name in params
        if name not in LIST_PARAMETERS
    ]
    problems += [
        FieldProblem(name, f"{name} may be given only once")
        for name in LIST_PARAMETERS
        if len(params.getlist(name)) > 1
    ]
    status = params.get("status") or None
    if status is not None and status not in STATUSES:
        problems.append(FieldProblem("status", "status must be one of " + ", ".join(STATUSES)))
    raw_limit = params.get("limit") or str(DEFAULT_LIMIT)
    limit = int(raw_limit) if DIGITS.match(raw_limit) else 0
    if not 1 <= limit <= MAX_LIMIT:
        problems.append(FieldProblem("limit", f"limit must be an integer from 1 to {MAX_LIMIT}"))
    raw_cursor = params.get("cursor") or None
    before = None if raw_cursor is None else position_of(raw_cursor)
    if raw_cursor is not None and before is None:
        problems.append(FieldProblem("cursor", "cursor is not one this list handed out"))
    if problems:
        raise invalid(problems)
    return ListQuery(status, limit, before)


async def list_generations(request: Request) -> Response:
    """The caller's generations, newest first, a page at a time (read models, after waiting
    for them to include the caller's latest writes)."""
    principal = await user_principal(request)
    query = list_query_from(request)
    generations = read_models_of(request).generations
    page = await run_in_threadpool(
        generations.page, principal.user_id, query.status, query.limit, query.before
    )
    return ApiJSONResponse(
        {
            "success": True,
            "data": [generation_record_json(record) for record in page.items],
            "nextCursor": cursor_of(page.next_before),
        }
    )


routes = [
    Route("/api/generations", list_generations, methods=["GET"]),
    Route("/api/generations/{generation_id}", get_generation, methods=["GET"]),
]
