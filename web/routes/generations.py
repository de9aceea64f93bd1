"""A user's generations: one by id (from its aggregate), or the list (from the read models)."""

from __future__ import annotations

from dataclasses import dataclass

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from domain.errors import FieldProblem
from domain.generations import STATUSES
from web.auth import user_principal
from web.paging import Cursors, paging_from
from web.presenters import generation_json
from web.requests import atelier_of, generation_id_from, in_thread
from web.responses import success, success_page
from web.routes.queue import read_side_of
from web.schemas import invalid

LIST_PARAMETERS = ("status", "limit", "cursor")
DEFAULT_LIMIT = 20
MAX_LIMIT = 100
CURSORS = Cursors("g1:")


async def get_generation(request: Request) -> Response:
    principal = await user_principal(request)
    generation_id = generation_id_from(request)
    generation = await in_thread(
        atelier_of(request).get_generation, principal.user_id, generation_id
    )
    return success(generation_json(generation))


@dataclass(frozen=True)
class ListQuery:
    status: str | None
    limit: int
    before: int | None


def list_query_from(request: Request) -> ListQuery:
    problems: list[FieldProblem] = []
    paging = paging_from(request, CURSORS, LIST_PARAMETERS, DEFAULT_LIMIT, MAX_LIMIT, problems)
    status = request.query_params.get("status") or None
    if status is not None and status not in STATUSES:
        problems.append(FieldProblem("status", "status must be one of " + ", ".join(STATUSES)))
    if problems:
        raise invalid(problems)
    return ListQuery(status, paging.limit, paging.position)


async def list_generations(request: Request) -> Response:
    principal = await user_principal(request)
    query = list_query_from(request)
    generations = read_side_of(request).generations
    page = await in_thread(
        generations.page, principal.user_id, query.status, query.limit, query.before
    )
    items = [generation_json(record) for record in page.items]
    return success_page(items, CURSORS.encode(page.next_before))


routes = [
    Route("/api/generations", list_generations, methods=["GET"]),
    Route("/api/generations/{generation_id}", get_generation, methods=["GET"]),
]
