"""GET /api/admin/stats: the dashboard totals, the queue, and how far each projection has got."""

from __future__ import annotations

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from application.queries import ReadSide
from application.service import Atelier
from web.auth import admin_principal
from web.presenters import stats_json
from web.requests import atelier_of
from web.responses import success
from web.routes.queue import read_side_of


def gather(models: ReadSide, atelier: Atelier, generator_name: str) -> Response:
    # Positions last, so they are at least as far as the figures were read at.
    totals = models.dashboard.totals()
    queue = models.pending_queue.status()
    circuit = atelier.generator_circuit(generator_name)
    return success(stats_json(totals, queue, models.status(), (generator_name, circuit)))


async def get_stats(request: Request) -> Response:
    admin_principal(request)
    generator_name: str = request.app.state.generator_name
    return await run_in_threadpool(
        gather, read_side_of(request), atelier_of(request), generator_name
    )


routes = [Route("/api/admin/stats", get_stats, methods=["GET"])]
