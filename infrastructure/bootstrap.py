"""Builds the application from settings: the one place that wires adapters to ports."""

from __future__ import annotations

from application.service import Atelier
from infrastructure.background import BackgroundService
from infrastructure.image_checker import HttpImageChecker
from infrastructure.persistence import event_store_env
from infrastructure.settings import Settings


def build_application(settings: Settings, *, create_tables: bool = True) -> Atelier:
    """An Atelier on the configured store, with the policy and adapters the settings ask for."""
    checker = HttpImageChecker() if settings.verify_image_urls else None
    return Atelier(
        env=event_store_env(settings, create_tables=create_tables),
        policy=settings.policy(),
        image_checker=checker,
    )


def migrate(settings: Settings) -> None:
    """Create every table (events, snapshots, read models) once, before processes start.

    PostgreSQL processes that start together and each create tables can fail, so `atelier
    serve` runs this first and its workers start with table creation off.
    """
    build_application(settings, create_tables=True).close()


def background_services(settings: Settings, atelier: Atelier) -> list[BackgroundService]:
    """What a server process runs beside its requests, started and stopped with the app."""
    return []
