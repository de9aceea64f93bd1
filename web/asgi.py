"""The ASGI entry point uvicorn imports in each worker process (`web.asgi:app_factory`)."""

from __future__ import annotations

import os

from starlette.applications import Starlette

from infrastructure.bootstrap import build_application
from infrastructure.settings import load_settings
from web.app import create_app

CREATE_TABLES_VARIABLE = "ATELIER_CREATE_TABLES"


def app_factory() -> Starlette:
    """Built after the fork, so each worker has its own connections. `atelier serve` creates
    the tables once before starting workers and tells them not to."""
    settings = load_settings()
    create_tables = os.environ.get(CREATE_TABLES_VARIABLE, "y") != "n"
    return create_app(settings, build_application(settings, create_tables=create_tables))
