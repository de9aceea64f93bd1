"""create_app: the Starlette application, wired to one Atelier per process."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from starlette.applications import Starlette
from starlette.middleware import Middleware

from application.service import Atelier
from infrastructure.bootstrap import background_services, build_application, build_read_models
from infrastructure.secrets import auth_secret
from infrastructure.settings import Settings, load_settings
from infrastructure.tokens import TokenVerifier
from web.errors import EXCEPTION_HANDLERS
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

logger = logging.getLogger(__name__)


def create_app(settings: Settings | None = None, atelier: Atelier | None = None) -> Starlette:
    """The HTTP application. Without arguments it reads the environment and builds the store."""
    settings = settings or load_settings()
    atelier = atelier or build_application(settings)

    services = background_services(settings, atelier)

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
    app.state.settings = settings
    app.state.atelier = atelier
    app.state.read_models = build_read_models(settings, atelier)
    app.state.auth_secret = auth_secret(settings)
    app.state.token_verifier = TokenVerifier(app.state.auth_secret)
    return app
