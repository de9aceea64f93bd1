"""The HTTP service's composition root: settings and adapters in, the Starlette app out.
uvicorn calls a factory here in each worker process, after the fork."""

from __future__ import annotations

from starlette.applications import Starlette

from application.service import Atelier
from infrastructure.bootstrap import background_services, build_application, build_read_models
from infrastructure.secrets import auth_secret
from infrastructure.settings import Settings, load_settings
from infrastructure.tokens import TokenVerifier
from web.app import create_app


def app_from_settings(
    settings: Settings | None = None, atelier: Atelier | None = None
) -> Starlette:
    settings = settings or load_settings()
    atelier = atelier or build_application(settings)
    services = background_services(settings, atelier)
    read_side = build_read_models(settings, atelier)
    return create_app(
        atelier,
        read_side,
        TokenVerifier(auth_secret(settings)),
        settings.max_request_bytes,
        services,
        generator_name=settings.generator,
    )


def app_factory() -> Starlette:
    """`uvicorn --factory web.asgi:app_factory`: creates whatever tables are missing first."""
    return app_from_settings()


def app_on_migrated_store() -> Starlette:
    """What `atelier serve` starts in each worker, having created every table before forking."""
    settings = load_settings()
    return app_from_settings(settings, build_application(settings, create_tables=False))
