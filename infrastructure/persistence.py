"""The event store the eventsourcing library builds from settings: SQLite, PostgreSQL or memory."""

from __future__ import annotations

from infrastructure.settings import Settings

SQLITE_LOCK_TIMEOUT_SECONDS = 10


def event_store_env(settings: Settings, *, create_tables: bool = True) -> dict[str, str]:
    """The eventsourcing environment; create_tables only under the table-creation lock."""
    env = {
        "PERSISTENCE_MODULE": settings.persistence_module,
        "AGGREGATE_CACHE_MAXSIZE": str(settings.aggregate_cache_size),
        "CREATE_TABLE": "y" if create_tables else "n",
    }
    if settings.persistence_module == "eventsourcing.sqlite":
        settings.data_dir.mkdir(parents=True, exist_ok=True)
        env["SQLITE_DBNAME"] = str(settings.sqlite_path)
        env["SQLITE_LOCK_TIMEOUT"] = str(SQLITE_LOCK_TIMEOUT_SECONDS)
    elif settings.persistence_module == "eventsourcing.postgres":
        env.update(
            {
                "POSTGRES_DBNAME": settings.postgres_dbname,
                "POSTGRES_HOST": settings.postgres_host,
                "POSTGRES_PORT": str(settings.postgres_port),
                "POSTGRES_USER": settings.postgres_user,
                "POSTGRES_PASSWORD": settings.postgres_password.get_secret_value(),
                "POSTGRES_SCHEMA": settings.postgres_schema,
                "POSTGRES_POOL_SIZE": str(settings.postgres_pool_size),
                "POSTGRES_MAX_OVERFLOW": str(settings.postgres_max_overflow),
                "POSTGRES_CONNECT_TIMEOUT": str(settings.postgres_connect_timeout),
            }
        )
    return env
