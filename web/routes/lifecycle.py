"""A generation's life after acceptance: worker claim, heartbeat, complete and fail; the owner's
cancel."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from web.auth import user_principal, worker_principal
from web.presenters import generation_json, heartbeat_json, worker_generation_json
from web.requests import atelier_of, body_as, generation_id_from, in_thread
from web.responses import success
from web.schemas import ClaimBody, CompleteBody, EmptyBody, FailBody, HeartbeatBody


async def claim(request: Request) -> Response:
    worker_principal(request)
    body = await body_as(request, ClaimBody)
    generation = await in_thread(atelier_of(request).claim, body.worker_id)
    if generation is None:
        return Response(status_code=204)
    return success(worker_generation_json(generation))


async def heartbeat(request: Request) -> Response:
    worker_principal(request)
    generation_id = generation_id_from(request)
    body = await body_as(request, HeartbeatBody)
    answer = await in_thread(atelier_of(request).heartbeat, generation_id, body.worker_id)
    return success(heartbeat_json(answer))


async def complete(request: Request) -> Response:
    worker_principal(request)
    generation_id = generation_id_from(request)
    body = await body_as(request, CompleteBody)
    generation = await in_thread(
        atelier_of(request).complete, generation_id, body.worker_id, body.result_images
    )
    return success(worker_generation_json(generation))


async def fail(request: Request) -> Response:
    worker_principal(request)
    generation_id = generation_id_from(request)
    body = await body_as(request, FailBody)
    generation = await in_thread(
        atelier_of(request).fail, generation_id, body.worker_id, body.reason
    )
    return success(worker_generation_json(generation))


async def cancel(request: Request) -> Response:
    principal = await user_principal(request)
    generation_id = generation_id_from(request)
    await body_as(request, EmptyBody)
    generation = await in_thread(atelier_of(request).cancel, principal.user_id, generation_id)
    return success(generation_json(generation))


routes = [
    Route("/api/worker/claim", claim, methods=["POST"]),
    Route("/api/worker/generations/{generation_id}/heartbeat", heartbeat, methods=["POST"]),
    Route("/api/worker/generations/{generation_id}/complete", complete, methods=["POST"]),
    Route("/api/worker/generations/{generation_id}/fail", fail, methods=["POST"]),
    Route("/api/generations/{generation_id}/cancel", cancel, methods=["POST"]),
]
