"""A user's generations."""

from __future__ import annotations

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from web.auth import user_principal
from web.presenters import generation_json
from web.requests import atelier_of, generation_id_from
from web.responses import success


async def get_generation(request: Request) -> Response:
    principal = await user_principal(request)
    generation_id = generation_id_from(request)
    details = await run_in_threadpool(
        atelier_of(request).get_generation, principal.user_id, generation_id
    )
    return success(generation_json(details))


routes = [
    Route("/api/generations/{generation_id}", get_generation, methods=["GET"]),
]
