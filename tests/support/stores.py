"""Test stores: a SQLite file in a temporary directory, or PostgreSQL in a throwaway schema.

PostgreSQL is read from the usual POSTGRES_* variables (defaults: 127.0.0.1:5432, user
postgres, database test). When it cannot be reached the PostgreSQL tests skip with the reason,
except under CI=true, where they fail: CI must prove the PostgreSQL paths.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import psycopg
import pytest

from infrastructure.settings import Settings, load_settings
from tests.support.builders import TEST_SECRET

POSTGRES = {
    "host": os.environ.get("POSTGRES_HOST", "127.0.0.1"),
    "port": int(os.environ.get("POSTGRES_PORT", "5432")),
    "user": os.environ.get("POSTGRES_USER", "postgres"),
    "password": os.environ.get("POSTGRES_PASSWORD", ""),
    "dbname": os.environ.get("POSTGRES_DBNAME", "test"),
}


def postgres_unreachable_reason() -> str | None:
    try:
        with psycopg.connect(**POSTGRES, connect_timeout=3):
            return None
    except psycopg.Error as error:
        where = f"{POSTGRES['host']}:{POSTGRES['port']}/{POSTGRES['dbname']}"
        return f"PostgreSQL is not reachable at {where}: {error}".strip()


def require_postgres() -> None:
    """Skip (or under CI=true, fail) when PostgreSQL is not there."""
    reason = postgres_unreachable_reason()
    if reason is None:
        return
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(f"CI=true requires PostgreSQL: {reason}")
    pytest.skip(reason)


def sqlite_settings(data_dir: Path, **overrides: object) -> Settings:
    return load_settings(
        data_dir=data_dir,
        persistence_module="eventsourcing.sqlite",
        auth_secret=TEST_SECRET,
        **overrides,
    )


@contextmanager
def postgres_schema() -> Iterator[str]:
    """A fresh schema, dropped with everything in it afterwards."""
    require_postgres()
    schema = f"test_{uuid.uuid4().hex[:16]}"
    with psycopg.connect(**POSTGRES, autocommit=True) as connection:
        connection.execute(f'CREATE SCHEMA "{schema}"')
    try:
        yield schema
    finally:
        with psycopg.connect(**POSTGRES, autocommit=True) as connection:
            connection.execute(f'DROP SCHEMA "{schema}" CASCADE')


@contextmanager
def fresh_store(kind: str, data_dir: Path, **overrides: object) -> Iterator[Settings]:
    """Settings on an empty SQLite file or an empty PostgreSQL schema, removed afterwards."""
    data_dir.mkdir(parents=True, exist_ok=True)
    if kind == "sqlite":
        yield sqlite_settings(data_dir, **overrides)
        return
    with postgres_schema() as schema:
        yield postgres_settings(data_dir, schema, **overrides)


def postgres_settings(data_dir: Path, schema: str, **overrides: object) -> Settings:
    return load_settings(
        data_dir=data_dir,
        persistence_module="eventsourcing.postgres",
        postgres_host=POSTGRES["host"],
        postgres_port=POSTGRES["port"],
        postgres_user=POSTGRES["user"],
        postgres_password=POSTGRES["password"],
        postgres_dbname=POSTGRES["dbname"],
        postgres_schema=schema,
        auth_secret=TEST_SECRET,
        **overrides,
    )


def settings_env(settings: Settings) -> dict[str, str]:
    """The environment variables that reproduce `settings` in a child process."""
    env = {
        "DATA_DIR": str(settings.data_dir),
        "PERSISTENCE_MODULE": settings.persistence_module,
        "AUTH_SECRET": TEST_SECRET,
        "MAX_REQUESTS_PER_HOUR": str(settings.max_requests_per_hour),
        "RATE_LIMIT_ENABLED": str(settings.rate_limit_enabled).lower(),
        "QUEUE_MAX_SIZE": str(settings.queue_max_size),
        "GENERATION_ENABLED": str(settings.generation_enabled).lower(),
        "IDEMPOTENCY_TTL_SECONDS": str(settings.idempotency_ttl_seconds),
        "LEASE_SECONDS": str(settings.lease_seconds),
        "PENDING_TTL_SECONDS": str(settings.pending_ttl_seconds),
    }
    if settings.persistence_module == "eventsourcing.postgres":
        env.update(
            {
                "POSTGRES_HOST": settings.postgres_host,
                "POSTGRES_PORT": str(settings.postgres_port),
                "POSTGRES_USER": settings.postgres_user,
                "POSTGRES_PASSWORD": settings.postgres_password.get_secret_value(),
                "POSTGRES_DBNAME": settings.postgres_dbname,
                "POSTGRES_SCHEMA": settings.postgres_schema,
            }
        )
    return env
