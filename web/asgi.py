"""The HTTP service's composition root: settings and adapters in, the Starlette app out.
uvicorn calls a factory here in each worker process, after the fork."""

from __future__ import annotations

import sys

from starlette.applications import Starlette

from application.live_status import LiveStatus
from application.service import Atelier
from infrastructure.bootstrap import background_services, build_application, build_read_models
from infrastructure.log_head_watcher import LogHeadWatcher
from infrastructure.secrets import auth_secret
from infrastructure.settings import Settings, load_settings
from infrastructure.telemetry import service_telemetry
from infrastructure.tokens import TokenVerifier
from infrastructure.webhooks.service import build_webhooks, webhook_service
from web.app import Observability, create_app
from web.webhook_presenters import webhook_body_json


def app_from_settings(
    settings: Settings | None = None,
    atelier: Atelier | None = None,
    *,
    create_tables: bool = True,
) -> Starlette:
    """An `atelier` given here reports no admission batches to the metrics (it was built
    without this app's telemetry)."""
    settings = settings or load_settings()
    telemetry = service_telemetry(settings)
    atelier = atelier or build_application(
        settings, create_tables=create_tables, telemetry=telemetry
    )
    watcher = LogHeadWatcher(atelier, settings.live_poll_seconds)
    services = [*background_services(settings, atelier), watcher]
    read_side = build_read_models(settings, atelier)
    webhooks = None
    if read_side is not None:
        webhooks, urls = build_webhooks(settings, read_side, webhook_body_json)
        services.append(webhook_service(settings, webhooks, read_side, urls))
    token = settings.metrics_token

    def circuit_open() -> bool:
        return atelier.generator_circuit(settings.generator) == "open"

    app = create_app(
        atelier,
        read_side,
        TokenVerifier(auth_secret(settings)),
        settings.max_request_bytes,
        services,
        Observability(
            telemetry=telemetry,
            metrics=telemetry.metrics_page(read_side, circuit_open),
            metrics_token=None if token is None else token.get_secret_value(),
        ),
        LiveStatus(atelier, watcher),
        settings.stream_keepalive_seconds,
        generator_name=settings.generator,
        request_threads=settings.request_threads,
    )
    app.state.webhooks = webhooks
    return app


def app_factory() -> Starlette:
    """`uvicorn --factory web.asgi:app_factory`: creates whatever tables are missing first."""
    return app_from_settings()


# How long a thread may hold the interpreter lock before another may take it (Python's default
# is 5 ms). The event loop, the group commit and the request threads each hand work to another
# and wait; a shorter turn lets the one that waits run sooner (docs/benchmarks.md, issue 18).
SWITCH_INTERVAL_SECONDS = 0.001


def app_on_migrated_store() -> Starlette:
    """What `atelier serve` starts in each worker, having created every table before forking."""
    sys.setswitchinterval(SWITCH_INTERVAL_SECONDS)
    return app_from_settings(load_settings(), create_tables=False)
