"""The ceilings the submission benchmark is measured against, served by the same HTTP stack.

- `POST /noop`: reads and validates the same body with the same code as POST /api/generate,
  then answers 201. Nothing is stored: this is the HTTP ceiling.
- `GET /noop`: answers a small JSON body through the same middleware: the ceiling of reads.
- `POST /append`: the same, plus the raw append of the same events a submission stores (one
  TokensReserved, one GenerationRequested, one ImageLinked per image, one GenerationQueued) in
  one transaction, straight into the event store's recorder: the combined ceiling.
"""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime
from uuid import uuid4

from eventsourcing.persistence import StoredEvent
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from application.service import Atelier
from domain.accounts import TokenAccount
from domain.generations import Generation
from domain.images import link_images
from domain.queue import GenerationQueue
from infrastructure.persistence import event_store_env
from infrastructure.settings import load_settings
from tests.support.builders import generation_request
from web.body import parse_json_object, read_limited_body
from web.errors import EXCEPTION_HANDLERS
from web.middleware import ApiMiddleware
from web.responses import success
from web.schemas import generation_request_from

MAX_BYTES = 1024 * 1024


def submission_events(atelier: Atelier, product_images: tuple[str, ...]) -> list[StoredEvent]:
    """The stored events of one accepted submission, as the application would write them."""
    now = datetime.now(UTC)
    request = generation_request(product_images=product_images)
    account = TokenAccount.open("template", 10, now)
    account.collect_events()
    queue = GenerationQueue()
    queue.collect_events()
    generation_id = uuid4()
    account.reserve(generation_id, 1, now, None)
    queue.admit(generation_id, 10, now)
    generation = Generation.request(
        generation_id,
        "template",
        request,
        None,
        "prompt",
        1,
        1,
        link_images(product_images, ()),
        now,
    )
    events = [*account.collect_events(), *generation.collect_events(), *queue.collect_events()]
    return [atelier.mapper.to_stored_event(event) for event in events]


def fresh_copies(templates: list[StoredEvent]) -> list[StoredEvent]:
    """The template events under new aggregate ids, so every append is a new row set."""
    return [dataclasses.replace(event, originator_id=uuid4()) for event in templates]


def app_factory() -> Starlette:
    settings = load_settings()
    atelier = Atelier(env=event_store_env(settings))
    templates: dict[tuple[str, ...], list[StoredEvent]] = {}

    async def parse(request: Request) -> tuple[str, ...]:
        raw = await read_limited_body(request, MAX_BYTES)
        parsed = generation_request_from(parse_json_object(raw), request)
        return parsed.product_images

    async def noop(request: Request) -> Response:
        await parse(request)
        return success({"_id": str(uuid4()), "status": "pending"}, 201)

    async def append(request: Request) -> Response:
        images = await parse(request)
        if images not in templates:
            templates[images] = submission_events(atelier, images)
        await run_in_threadpool(atelier.recorder.insert_events, fresh_copies(templates[images]))
        return success({"_id": str(uuid4()), "status": "pending"}, 201)

    async def noop_get(request: Request) -> Response:
        return success({"status": "ok"})

    async def health(request: Request) -> Response:
        return success({"status": "healthy"})

    return Starlette(
        routes=[
            Route("/noop", noop, methods=["POST"]),
            Route("/noop", noop_get, methods=["GET"]),
            Route("/append", append, methods=["POST"]),
            Route("/api/generate", health, methods=["GET"]),
        ],
        middleware=[Middleware(ApiMiddleware)],
        exception_handlers=EXCEPTION_HANDLERS,
    )
