"""What the lifecycle tests share: the wired application, submissions, and what they left.

The application is built exactly as the server builds it (`build_application` and its
background services), on whichever store `make_settings` gives, so claims and sweeps go through
the real pending-generations read model.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any
from uuid import UUID

from starlette.testclient import TestClient

from application.ports import BackgroundService, system_clock
from application.service import Atelier
from domain.accounts import TokenAccount
from domain.generations import Generation
from domain.identifiers import account_id, queue_id
from domain.queue import GenerationQueue
from infrastructure.bootstrap import background_services, build_application
from infrastructure.settings import Settings
from tests.support.builders import generation_request
from tests.support.clock import Clock
from web.asgi import app_from_settings


@contextmanager
def wired_application(
    settings: Settings,
    clock: Clock | None = None,
    *,
    with_sweeper: bool = False,
    create_tables: bool = True,
) -> Iterator[Atelier]:
    """The server's application and background services (without the sweeper unless asked,
    so a test that moves the clock decides when sweeps happen)."""
    atelier = build_application(settings, create_tables=create_tables, clock=clock or system_clock)
    services: list[BackgroundService] = [
        service
        for service in background_services(settings, atelier)
        if with_sweeper or service.name != "sweeper"
    ]
    for service in services:
        service.start()
    try:
        assert atelier.queue_view is not None, "bootstrap wires the pending queue view"
        yield atelier
    finally:
        for service in reversed(services):
            service.stop()
        atelier.close()


def submit(atelier: Atelier, user_id: str, **changes: Any) -> UUID:
    return atelier.submit_generation(user_id, generation_request(**changes)).generation_id


def generation(atelier: Atelier, generation_id: UUID) -> Generation:
    loaded: Generation = atelier.repository.get(generation_id)
    return loaded


def account(atelier: Atelier, user_id: str) -> TokenAccount:
    loaded: TokenAccount = atelier.repository.get(account_id(user_id))
    return loaded


def queue_depth(atelier: Atelier) -> int:
    queue: GenerationQueue = atelier.repository.get(queue_id())
    return queue.pending


def event_names(atelier: Atelier, aggregate_id: UUID) -> list[str]:
    return [type(event).__name__ for event in atelier.events.get(aggregate_id)]  # type: ignore[attr-defined]


@contextmanager
def lifecycle_client(settings: Settings, clock: Clock | None = None) -> Iterator[TestClient]:
    """The HTTP app as `atelier serve` builds it (lifespan and background services included),
    with the application's clock under the test's control."""
    atelier = build_application(settings, clock=clock or system_clock)
    assert atelier.queue_view is not None, "bootstrap wires the pending queue view"
    with TestClient(app_from_settings(settings, atelier), raise_server_exceptions=False) as client:
        yield client
