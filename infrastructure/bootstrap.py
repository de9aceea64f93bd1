"""Builds the application from settings: the one place that wires adapters to ports."""

from __future__ import annotations

from application.service import Atelier
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
