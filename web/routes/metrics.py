"""GET /metrics: the Prometheus text format, behind METRICS_TOKEN when one is set."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from application.queries import MetricsExposition
from web.auth import require_metrics_token
from web.errors import ApiError
from web.requests import in_thread


async def get_metrics(request: Request) -> Response:
    page: MetricsExposition | None = request.app.state.metrics
    if page is None:  # METRICS_ENABLED=false
        raise ApiError(404, "NOT_FOUND", "Not found")
    require_metrics_token(request)
    body = await in_thread(page.render)
    return Response(body, media_type=page.content_type)


routes = [Route("/metrics", get_metrics, methods=["GET"])]
