"""Event histories, a page at a time: a generation's for its owner, an account's for an admin."""

from __future__ import annotations

from dataclasses import dataclass

from starlette.requests import Request
from starlette.responses import Response

from application.history import HistoryPage
from domain.errors import FieldProblem
from web.auth import admin_principal, user_principal
from web.openapi import examples
from web.openapi.answers import HistoryEntry
from web.openapi.operation import Answer, ApiRoute, Operation
from web.openapi.parameters import CURSOR, GENERATION_ID, USER_ID, limit
from web.openapi.refusals import (
    ACCOUNT_NOT_FOUND,
    ADMIN_ROUTE,
    GENERATION_NOT_FOUND,
    USER_ROUTE,
)
from web.paging import Cursors, paging_from
from web.presenters import history_entry_json
from web.requests import atelier_of, generation_id_from, in_thread
from web.responses import success_page
from web.routes.admin import on_existing_account
from web.schemas import invalid

PARAMETERS = ("limit", "cursor")
DEFAULT_LIMIT = 100
MAX_LIMIT = 1000
CURSORS = Cursors("e1:")


@dataclass(frozen=True)
class EventsQuery:
    limit: int
    after: int  # an aggregate version


def events_query_from(request: Request) -> EventsQuery:
    problems: list[FieldProblem] = []
    paging = paging_from(request, CURSORS, PARAMETERS, DEFAULT_LIMIT, MAX_LIMIT, problems)
    if problems:
        raise invalid(problems)
    return EventsQuery(paging.limit, paging.position or 0)


def events_response(page: HistoryPage) -> Response:
    items = [history_entry_json(entry) for entry in page.entries]
    return success_page(items, CURSORS.encode(page.next_after))


async def generation_events(request: Request) -> Response:
    principal = await user_principal(request)
    generation_id = generation_id_from(request)
    query = events_query_from(request)
    page = await in_thread(
        atelier_of(request).generation_history,
        principal.user_id,
        generation_id,
        query.after,
        query.limit,
    )
    return events_response(page)


async def account_events(request: Request) -> Response:
    admin_principal(request)
    query = events_query_from(request)
    page = await on_existing_account(
        atelier_of(request).account_history,
        request.path_params["user_id"],
        query.after,
        query.limit,
    )
    return events_response(page)


PAGING = (limit(DEFAULT_LIMIT, MAX_LIMIT), CURSOR)
GENERATION_EVENTS = Operation(
    "GET",
    "getGenerationEvents",
    "A generation's history",
    "Its events, oldest first, a page at a time: `GenerationRequested`, `ImageLinked`, "
    "`GenerationStarted`, then how it ended.",
    tag="generations",
    roles=("user",),
    parameters=(GENERATION_ID, *PAGING),
    answers=(Answer(200, "A page of events.", HistoryEntry, "page", examples.GENERATION_EVENTS),),
    refusals=(*USER_ROUTE, GENERATION_NOT_FOUND),
)
ACCOUNT_EVENTS = Operation(
    "GET",
    "getAccountEvents",
    "An account's history",
    "The account's events, oldest first, a page at a time: opening, grants, reservations and "
    "how each ended, disabling and enabling.",
    tag="admin",
    roles=("admin",),
    parameters=(USER_ID, *PAGING),
    answers=(Answer(200, "A page of events.", HistoryEntry, "page", examples.ACCOUNT_EVENTS),),
    refusals=(*ADMIN_ROUTE, ACCOUNT_NOT_FOUND),
)
routes = [
    ApiRoute("/api/generations/{generation_id}/events", generation_events, GENERATION_EVENTS),
    ApiRoute("/api/admin/accounts/{user_id}/events", account_events, ACCOUNT_EVENTS),
]
