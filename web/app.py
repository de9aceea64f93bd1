"""create_app: the Starlette application around one Atelier and the ports it is given."""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager

from starlette.applications import Starlette
from starlette.middleware import Middleware

from application.ports import BackgroundService
from application.principals import TokenVerification
from application.queries import ReadSide
from application.service import Atelier
from web.errors import EXCEPTION_HANDLERS
from web.health import HealthProbe
from web.middleware import ApiMiddleware
from web.routes import (
    account,
    admin,
    generate,
    generations,
    history,
    lifecycle,
    queue,
    stats,
)


def create_app(
    atelier: Atelier,
    read_side: ReadSide | None,
    tokens: TokenVerification,
    max_request_bytes: int,
    services: Sequence[BackgroundService] = (),
) -> Starlette:
    """`read_side` is None on a memory store (its routes answer 503); `services` start with
    the app and stop, in reverse order, before the Atelier closes."""

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        for service in services:
            service.start()
        try:
            yield
        finally:
            for service in reversed(services):
                service.stop()
            atelier.close()

    app = Starlette(
        routes=[
            *generate.routes,
            *generations.routes,
            *account.routes,
            *admin.routes,
            *lifecycle.routes,
            *queue.routes,
            *stats.routes,
            *history.routes,
        ],
        middleware=[Middleware(ApiMiddleware)],
        exception_handlers=EXCEPTION_HANDLERS,
        lifespan=lifespan,
    )
    app.router.redirect_slashes = False  # exact paths: no redirect built from the Host header
    app.state.atelier = atelier
    app.state.read_side = read_side
    app.state.tokens = tokens
    app.state.health_probe = HealthProbe(atelier)
    app.state.max_request_bytes = max_request_bytes
    return app
