"""create_app: the Starlette application around one Atelier and the ports it is given."""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass

import anyio
import anyio.to_thread
from starlette.applications import Starlette
from starlette.middleware import Middleware

from application.live_status import LiveStatus
from application.ports import BackgroundService
from application.principals import TokenVerification
from application.queries import MetricsExposition, ReadSide
from application.service import Atelier
from application.telemetry import NO_TELEMETRY, Telemetry
from web.errors import EXCEPTION_HANDLERS
from web.health import HealthProbe
from web.middleware import ApiMiddleware
from web.routes import (
    account,
    activity,
    admin,
    admin_generations,
    dashboard,
    generate,
    generations,
    history,
    lifecycle,
    live,
    metrics,
    queue,
    reference,
    stats,
    webhooks,
)

# The route table: what the app serves and /openapi.json documents (each an ApiRoute).
# Threads that wait on other hosts (image checks up to 3 s a hop): many, since they mostly
# sleep, and apart from the store's few, so a slow host holds up no read.
NETWORK_THREADS = 32
ROUTES = [
    *generate.routes,
    *generations.routes,
    *live.routes,
    *account.routes,
    *admin.routes,
    *lifecycle.routes,
    *queue.routes,
    *stats.routes,
    *history.routes,
    *reference.routes,
    *admin_generations.routes,
    *activity.routes,
    *dashboard.routes,
    *metrics.routes,
    *webhooks.routes,
]


@dataclass(frozen=True)
class Observability:
    """Where the app reports each answer (`telemetry`), and what it serves at /metrics
    (`metrics`; None: 404), behind `metrics_token` when one is set."""

    telemetry: Telemetry = NO_TELEMETRY
    metrics: MetricsExposition | None = None
    metrics_token: str | None = None


def create_app(
    atelier: Atelier,
    read_side: ReadSide | None,
    tokens: TokenVerification,
    max_request_bytes: int,
    services: Sequence[BackgroundService] = (),
    observability: Observability = Observability(),
    live_status: LiveStatus | None = None,
    stream_keepalive_seconds: float = 15.0,
    generator_name: str = "dry-run",
    request_threads: int = 4,
) -> Starlette:
    """`read_side` is None on a memory store (its routes answer 503); `services` start with
    the app and stop, in reverse order, before the Atelier closes. Without `live_status`,
    streams answer 503 and `Prefer: wait` is not applied. `request_threads` run the
    requests' store calls (docs/operations.md says why few)."""

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        anyio.to_thread.current_default_thread_limiter().total_tokens = request_threads
        app.state.network_threads = anyio.CapacityLimiter(NETWORK_THREADS)
        for service in services:
            service.start()
        try:
            yield
        finally:
            for service in reversed(services):
                service.stop()
            atelier.close()

    app = Starlette(
        routes=ROUTES,
        middleware=[Middleware(ApiMiddleware, telemetry=observability.telemetry)],
        exception_handlers=EXCEPTION_HANDLERS,
        lifespan=lifespan,
    )
    app.router.redirect_slashes = False  # exact paths: no redirect built from the Host header
    app.state.atelier = atelier
    app.state.read_side = read_side
    app.state.tokens = tokens
    app.state.health_probe = HealthProbe(atelier)
    app.state.max_request_bytes = max_request_bytes
    app.state.telemetry = observability.telemetry
    app.state.metrics = observability.metrics
    app.state.metrics_token = observability.metrics_token
    app.state.live_status = live_status
    app.state.stream_keepalive_seconds = stream_keepalive_seconds
    app.state.generator_name = generator_name  # GENERATOR: whose circuit the stats show
    return app
