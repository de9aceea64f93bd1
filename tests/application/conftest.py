"""An Atelier on memory (POPO) and on a SQLite file, with a clock the test controls."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from application.policy import Policy
from application.ports import ImageChecker
from application.service import Atelier
from tests.support.clock import Clock

AppFactory = Callable[..., Atelier]


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture(params=["popo", "sqlite"])
def make_app(request: pytest.FixtureRequest, tmp_path: Path, clock: Clock) -> AppFactory:
    """Build an Atelier with policy overrides; every app a test builds shares one store."""
    env: dict[str, str] = {"PERSISTENCE_MODULE": f"eventsourcing.{request.param}"}
    if request.param == "sqlite":
        env["SQLITE_DBNAME"] = str(tmp_path / "atelier.sqlite3")
    built: list[Atelier] = []

    def factory(image_checker: ImageChecker | None = None, **policy: Any) -> Atelier:
        if request.param == "popo" and built:
            return built[0]  # memory is per object: share the first
        app = Atelier(
            env=env, policy=replace(Policy(), **policy), clock=clock, image_checker=image_checker
        )
        built.append(app)
        return app

    return factory
