"""The SQLite health ping: a busy store is alive, a file that takes no writes is not."""

from __future__ import annotations

import sqlite3

from infrastructure.bootstrap import build_application
from tests.conftest import SettingsFactory


def test_a_writer_holding_the_lock_does_not_make_the_store_unhealthy(
    sqlite_only: SettingsFactory,
) -> None:
    settings = sqlite_only()
    atelier = build_application(settings)
    try:
        position = atelier.ping()
        writer = sqlite3.connect(settings.data_dir / "atelier.sqlite3", isolation_level=None)
        try:
            writer.execute("BEGIN IMMEDIATE")  # another writer holds the write lock
            assert atelier.ping() == position  # no OperationalError: busy is not down
        finally:
            writer.execute("ROLLBACK")
            writer.close()
        assert atelier.ping() == position
    finally:
        atelier.close()
