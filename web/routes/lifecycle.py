"""A generation's life after acceptance: worker claim, heartbeat, complete and fail; the owner's
cancel."""

from __future__ import annotations

from typing import Literal

from starlette.requests import Request
from starlette.responses import Response

from web.auth import user_principal, worker_principal
from web.openapi import examples
from web.openapi.answers import Generation, Heartbeat, WorkerGeneration
from web.openapi.operation import Answer, ApiRoute, Link, Operation
from web.openapi.parameters import GENERATION_ID
from web.openapi.refusals import (
    GENERATION_NOT_FOUND,
    INVALID_STATE,
    JSON_BODY,
    USER_ROUTE,
    WORKER_ROUTE,
)
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
        atelier_of(request).complete, generation_id, body.worker_id, body.results()
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


WORKER_ROLES: tuple[Literal["worker", "admin"], ...] = ("worker", "admin")
LEASED = (*WORKER_ROUTE, *JSON_BODY, GENERATION_NOT_FOUND, INVALID_STATE)
WORKER = {"workerId": "worker-1"}

CLAIM = Operation(
    "POST",
    "claimGeneration",
    "Claim the next generation",
    "The oldest pending generation becomes `processing`, leased to `workerId` for "
    "LEASE_SECONDS (default 600); `attempt` is 1 on its first claim. Two workers never get "
    "the same one.",
    tag="worker",
    roles=WORKER_ROLES,
    body=ClaimBody,
    body_example=WORKER,
    answers=(
        Answer(
            200,
            "The claimed generation, with its lease.",
            WorkerGeneration,
            example=examples.CLAIMED,
            links=tuple(
                Link(operation_id, {"generation_id": "$response.body#/data/_id"})
                for operation_id in (
                    "heartbeatGeneration",
                    "completeGeneration",
                    "failGeneration",
                )
            ),
        ),
        Answer(204, "No generation is pending.", wrapping="none"),
    ),
    refusals=(*WORKER_ROUTE, *JSON_BODY),
)
HEARTBEAT = Operation(
    "POST",
    "heartbeatGeneration",
    "Renew a lease",
    "The lease runs LEASE_SECONDS from now. `cancelled: true` means the owner cancelled the "
    "generation meanwhile: stop working on it. Only the worker holding the current lease may "
    "call this.",
    tag="worker",
    roles=WORKER_ROLES,
    parameters=(GENERATION_ID,),
    body=HeartbeatBody,
    body_example=WORKER,
    answers=(Answer(200, "The renewed lease.", Heartbeat, example=examples.HEARTBEAT),),
    refusals=LEASED,
)
COMPLETE = Operation(
    "POST",
    "completeGeneration",
    "Complete a generation",
    "Records its 1-4 result images (distinct absolute https URLs, at most 2,048 characters "
    "each) and captures its tokens. Only the lease holder may call this.",
    tag="worker",
    roles=WORKER_ROLES,
    parameters=(GENERATION_ID,),
    body=CompleteBody,
    body_example={**WORKER, "resultImages": [examples.RESULT_URL]},
    answers=(
        Answer(200, "The completed generation.", WorkerGeneration, example=examples.COMPLETED),
    ),
    refusals=LEASED,
)
FAIL = Operation(
    "POST",
    "failGeneration",
    "Fail a generation",
    "Records why it failed and releases its tokens. Only the lease holder may call this.",
    tag="worker",
    roles=WORKER_ROLES,
    parameters=(GENERATION_ID,),
    body=FailBody,
    body_example={**WORKER, "reason": "the model refused the prompt"},
    answers=(Answer(200, "The failed generation.", WorkerGeneration, example=examples.FAILED),),
    refusals=LEASED,
)
CANCEL = Operation(
    "POST",
    "cancelGeneration",
    "Cancel a generation",
    "A pending or processing generation becomes `cancelled` and its tokens are released (a "
    "processing one's worker learns it at its next heartbeat). No body, or `{}`.",
    tag="generations",
    roles=("user",),
    parameters=(GENERATION_ID,),
    body=EmptyBody,
    body_required=False,
    answers=(Answer(200, "The cancelled generation.", Generation, example=examples.CANCELLED),),
    refusals=(*USER_ROUTE, *JSON_BODY, GENERATION_NOT_FOUND, INVALID_STATE),
)
routes = [
    ApiRoute("/api/worker/claim", claim, CLAIM),
    ApiRoute("/api/worker/generations/{generation_id}/heartbeat", heartbeat, HEARTBEAT),
    ApiRoute("/api/worker/generations/{generation_id}/complete", complete, COMPLETE),
    ApiRoute("/api/worker/generations/{generation_id}/fail", fail, FAIL),
    ApiRoute("/api/generations/{generation_id}/cancel", cancel, CANCEL),
]
