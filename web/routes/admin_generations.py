"""GET /api/admin/generations: every user's generations, newest first, paged as a user's list."""

from __future__ import annotations

from dataclasses import dataclass

from starlette.requests import Request
from starlette.responses import Response

from domain.errors import FieldProblem
from domain.generations import STATUSES
from domain.identifiers import USER_ID
from web.auth import admin_principal
from web.openapi import examples
from web.openapi.answers import Generation
from web.openapi.operation import Answer, ApiRoute, Operation, Parameter
from web.openapi.parameters import CURSOR, STATUS, limit
from web.openapi.refusals import ADMIN_ROUTE, READ_MODELS_MISSING
from web.paging import Cursors, paging_from
from web.presenters import generation_json
from web.requests import in_thread
from web.responses import success_page
from web.routes.generations import DEFAULT_LIMIT, MAX_LIMIT
from web.routes.queue import read_side_of
from web.schemas import invalid

PARAMETERS = ("status", "userId", "limit", "cursor")
CURSORS = Cursors("a1:")


@dataclass(frozen=True)
class EveryoneQuery:
    status: str | None
    user_id: str | None
    limit: int
    before: int | None


def everyone_query_from(request: Request) -> EveryoneQuery:
    problems: list[FieldProblem] = []
    paging = paging_from(request, CURSORS, PARAMETERS, DEFAULT_LIMIT, MAX_LIMIT, problems)
    status = request.query_params.get("status") or None
    if status is not None and status not in STATUSES:
        problems.append(FieldProblem("status", "status must be one of " + ", ".join(STATUSES)))
    user_id = request.query_params.get("userId") or None
    if user_id is not None and not USER_ID.fullmatch(user_id):
        message = "A user id is 1-128 characters of A-Z a-z 0-9 _ . @ : -"
        problems.append(FieldProblem("userId", message))
    if problems:
        raise invalid(problems)
    return EveryoneQuery(status, user_id, paging.limit, paging.position)


async def list_every_generation(request: Request) -> Response:
    admin_principal(request)
    query = everyone_query_from(request)
    generations = read_side_of(request).generations
    page = await in_thread(
        generations.page_of_everyone, query.user_id, query.status, query.limit, query.before
    )
    items = [generation_json(record) for record in page.items]
    return success_page(items, CURSORS.encode(page.next_before))


USER_FILTER = Parameter(
    "userId",
    "query",
    {"type": "string", "pattern": USER_ID.pattern},
    "Only this user's generations: 1-128 characters of `A-Za-z0-9_.@:-`.",
    example="alice",
)
LIST_EVERY_GENERATION = Operation(
    "GET",
    "listEveryGeneration",
    "List every user's generations",
    "Newest first, a page at a time, as a user's own list; `userId` and `status` narrow it. "
    "An empty parameter counts as absent.",
    tag="admin",
    roles=("admin",),
    parameters=(STATUS, USER_FILTER, limit(DEFAULT_LIMIT, MAX_LIMIT), CURSOR),
    answers=(Answer(200, "A page of generations.", Generation, "page", [examples.GENERATION]),),
    refusals=(*ADMIN_ROUTE, READ_MODELS_MISSING),
)
routes = [ApiRoute("/api/admin/generations", list_every_generation, LIST_EVERY_GENERATION)]
