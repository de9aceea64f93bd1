"""A user's generations: one by id (from its aggregate), or the list (from the read models)."""

from __future__ import annotations

from dataclasses import dataclass

from starlette.requests import Request
from starlette.responses import Response

from application.principals import Principal
from application.queries import GenerationPage, GenerationRecord
from domain.errors import FieldProblem
from domain.generations import STATUSES
from web.auth import as_active_user, user_principal
from web.openapi import examples
from web.openapi.answers import Generation
from web.openapi.operation import Answer, ApiRoute, Operation
from web.openapi.parameters import CURSOR, GENERATION_ID, PREFER, STATUS, limit
from web.openapi.refusals import GENERATION_NOT_FOUND, READ_MODELS_MISSING, USER_ROUTE
from web.paging import Cursors, paging_from
from web.preferences import preferred_wait
from web.presenters import generation_json
from web.requests import atelier_of, generation_id_from
from web.responses import success, success_page
from web.routes.queue import read_side_of
from web.schemas import invalid

LIST_PARAMETERS = ("status", "limit", "cursor")
DEFAULT_LIMIT = 20
MAX_LIMIT = 100
CURSORS = Cursors("g1:")


async def get_generation(request: Request) -> Response:
    """With `Prefer: wait=N`, held until the generation has ended or N seconds have passed."""
    wait = preferred_wait(request)
    live_status = request.app.state.live_status
    if wait is None or live_status is None:

        def read(principal: Principal) -> GenerationRecord:
            generation_id = generation_id_from(request)
            return atelier_of(request).get_generation(principal.user_id, generation_id)

        return success(generation_json(await as_active_user(request, read)))
    principal = await user_principal(request)
    generation_id = generation_id_from(request)
    ended = await live_status.until_ended(principal.user_id, generation_id, wait)
    return success(generation_json(ended.record), headers={"Preference-Applied": f"wait={wait}"})


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
    def read(principal: Principal) -> GenerationPage:
        query = list_query_from(request)
        generations = read_side_of(request).generations
        return generations.page(principal.user_id, query.status, query.limit, query.before)

    page = await as_active_user(request, read)
    items = [generation_json(record) for record in page.items]
    return success_page(items, CURSORS.encode(page.next_before))


GET_GENERATION = Operation(
    "GET",
    "getGeneration",
    "Read a generation",
    "One of your generations, as it is now (read from its own history, so a write you just "
    "made is always seen). `queuePosition` is set while it is pending. With `Prefer: wait=N`, "
    "held until it has ended or N seconds have passed.",
    tag="generations",
    roles=("user",),
    parameters=(GENERATION_ID, PREFER),
    answers=(
        Answer(
            200,
            "The generation.",
            Generation,
            example=examples.GENERATION,
            headers=("Preference-Applied",),
        ),
    ),
    refusals=(*USER_ROUTE, GENERATION_NOT_FOUND),
)
LIST_GENERATIONS = Operation(
    "GET",
    "listGenerations",
    "List your generations",
    "Newest first, a page at a time: pass `nextCursor` back as `cursor` until it is null. An "
    "empty parameter counts as absent.",
    tag="generations",
    roles=("user",),
    parameters=(STATUS, limit(DEFAULT_LIMIT, MAX_LIMIT), CURSOR),
    answers=(Answer(200, "A page of generations.", Generation, "page", [examples.GENERATION]),),
    refusals=(*USER_ROUTE, READ_MODELS_MISSING),
)
routes = [
    ApiRoute("/api/generations", list_generations, LIST_GENERATIONS),
    ApiRoute("/api/generations/{generation_id}", get_generation, GET_GENERATION),
]
