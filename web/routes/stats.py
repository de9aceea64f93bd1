"""GET /api/admin/stats: the dashboard totals, the queue, and how far each projection has got."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from application.queries import ReadSide
from web.auth import admin_principal
from web.presenters import stats_json
from web.requests import in_thread
from web.responses import success
from web.routes.queue import read_side_of


def gather(models: ReadSide) -> Response:
    # Positions last, so they are at least as far as the figures were read at.
    totals = models.dashboard.totals()
    queue = models.pending_queue.status()
    return success(stats_json(totals, queue, models.status()))


async def get_stats(request: Request) -> Response:
    admin_principal(request)
    return await in_thread(gather, read_side_of(request))


routes = [Route("/api/admin/stats", get_stats, methods=["GET"])]
