"""GET /metrics: the Prometheus text format, behind METRICS_TOKEN when one is set."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from application.queries import MetricsExposition
from web.auth import require_metrics_token
from web.errors import ApiError
from web.openapi import examples
from web.openapi.operation import Answer, ApiRoute, Operation, Parameter, Refusal
from web.requests import in_thread


async def get_metrics(request: Request) -> Response:
    page: MetricsExposition | None = request.app.state.metrics
    if page is None:  # METRICS_ENABLED=false
        raise ApiError(404, "NOT_FOUND", "Not found")
    require_metrics_token(request)
    body = await in_thread(page.render)
    return Response(body, media_type=page.content_type)


EXPOSITION_TYPE = "text/plain; version=1.0.0; charset=utf-8"  # prometheus-client's, as served
METRICS_AUTHORIZATION = Parameter(
    "Authorization",
    "header",
    {"type": "string"},
    "`Bearer <METRICS_TOKEN>`, needed only when METRICS_TOKEN is set (it is not a JWT).",
    example="Bearer metrics-scraper-secret",
)
GET_METRICS = Operation(
    "GET",
    "getMetrics",
    "Prometheus metrics",
    "Every process's counters, gauges and histograms in the Prometheus text format. 404 when "
    "METRICS_ENABLED=false.",
    tag="operations",
    parameters=(METRICS_AUTHORIZATION,),
    answers=(
        Answer(
            200,
            "The exposition.",
            wrapping="text",
            media_type=EXPOSITION_TYPE,
            example=examples.METRICS,
        ),
    ),
    refusals=(
        Refusal(
            401,
            "AUTHENTICATION_REQUIRED",
            "METRICS_TOKEN is set and the request does not carry it",
            headers=("WWW-Authenticate",),
        ),
        Refusal(404, "NOT_FOUND", "METRICS_ENABLED=false"),
        Refusal(
            503,
            "SERVICE_UNAVAILABLE",
            "the figures took too long to gather: retry",
            headers=("Retry-After",),
        ),
    ),
)
routes = [ApiRoute("/metrics", get_metrics, GET_METRICS)]
