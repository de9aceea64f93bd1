"""Fixtures shared by every test layer: stores, settings and tokens."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from infrastructure.settings import Settings
from tests.support.stores import postgres_schema, postgres_settings, sqlite_settings

SettingsFactory = Callable[..., Settings]


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def make_settings(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[SettingsFactory]:
    """Builds Settings on each store in turn: SQLite in tmp_path, PostgreSQL in a new schema.

    Call it with setting overrides (`make_settings(queue_max_size=3)`); every call in one test
    shares the same store.
    """
    if request.param == "sqlite":
        yield lambda **overrides: sqlite_settings(tmp_path, **overrides)
        return
    with postgres_schema() as schema:
        yield lambda **overrides: postgres_settings(tmp_path, schema, **overrides)


@pytest.fixture
def sqlite_only(tmp_path: Path) -> SettingsFactory:
    """Settings on a SQLite file in tmp_path (for tests that are about one store only)."""
    return lambda **overrides: sqlite_settings(tmp_path, **overrides)
