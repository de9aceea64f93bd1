"""GET /api/admin/stats: the dashboard totals, the queue, and how far each projection has got."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from application.queries import ReadSide
from application.service import Atelier
from web.auth import admin_principal
from web.openapi import examples
from web.openapi.answers import Stats
from web.openapi.operation import Answer, ApiRoute, Operation
from web.openapi.refusals import ADMIN_ROUTE, READ_MODELS_MISSING
from web.presenters import stats_json
from web.requests import atelier_of, in_thread
from web.responses import success
from web.routes.queue import read_side_of
from web.webhook_presenters import webhook_stats_json


def gather(models: ReadSide, atelier: Atelier, generator_name: str) -> Response:
    # Positions last, so they are at least as far as the figures were read at.
    totals = models.dashboard.totals()
    queue = models.pending_queue.status()
    webhooks = webhook_stats_json(models.webhooks.counts())
    circuit = atelier.generator_circuit(generator_name)
    answer = stats_json(totals, queue, models.status(), (generator_name, circuit))
    return success({**answer, "webhooks": webhooks})


async def get_stats(request: Request) -> Response:
    admin_principal(request)
    generator_name: str = request.app.state.generator_name
    return await in_thread(gather, read_side_of(request), atelier_of(request), generator_name)


GET_STATS = Operation(
    "GET",
    "getStats",
    "Service totals",
    "Generations by status, token totals (`granted` includes opening grants; `reserved` is "
    "outstanding now), the queue, and each read model's position and lag behind the log (with "
    "`failing`, `error`, `failedAtPosition` and `failingSince` while one keeps failing).",
    tag="admin",
    roles=("admin",),
    answers=(Answer(200, "The totals now.", Stats, example=examples.STATS),),
    refusals=(*ADMIN_ROUTE, READ_MODELS_MISSING),
)
routes = [ApiRoute("/api/admin/stats", get_stats, GET_STATS)]
