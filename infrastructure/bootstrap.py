"""Builds the application from settings: the one place that wires adapters to ports."""

from __future__ import annotations

import time
from contextlib import nullcontext
from functools import partial

import psycopg
from eventsourcing.persistence import OperationalError
from eventsourcing.postgres import PostgresDatastore
from eventsourcing.sqlite import SQLiteDatastore

from application.base import AtelierBase
from application.ports import BackgroundService, Clock, system_clock
from application.service import Atelier
from application.telemetry import NO_TELEMETRY, Telemetry
from infrastructure.background import Backoff
from infrastructure.image_checker import HttpImageChecker
from infrastructure.locks.leadership import leadership
from infrastructure.locks.queue_mutex import queue_mutex
from infrastructure.locks.table_creation import table_creation_lock
from infrastructure.persistence import event_store_env
from infrastructure.projections.read_models import ReadModels, UnsupportedStore, view_on
from infrastructure.settings import Settings
from infrastructure.store_circuit import guard_postgres, guard_sqlite, sqlite_writable
from infrastructure.sweeper import sweeper
from infrastructure.webhooks.message_follower import SubscriptionsTable


def build_application(
    settings: Settings,
    *,
    create_tables: bool = True,
    clock: Clock = system_clock,
    telemetry: Telemetry = NO_TELEMETRY,
) -> Atelier:
    """An Atelier on the configured store, its tables made unless `create_tables` is off.
    A store the views cannot follow fails here (UnsupportedStore)."""
    checker = (
        HttpImageChecker(delivery_base=settings.cloudinary_delivery_url)
        if settings.verify_image_urls
        else None
    )
    # One turn at the table-creation lock for all of this process's tables.
    with table_creation_lock(settings) if create_tables else nullcontext():
        atelier = Atelier(
            env=event_store_env(settings, create_tables=create_tables),
            policy=settings.policy(),
            clock=clock,
            image_checker=checker,
            queue_mutex=queue_mutex(settings),
            queue_view=lambda store: (
                ReadModels(store, settings.projections_wait_seconds).pending_queue
            ),
            telemetry=telemetry,
        )
        if create_tables:
            ReadModels(atelier, settings.projections_wait_seconds).create_tables()
            view_on(atelier, SubscriptionsTable()).create_table()  # webhook message creation
    guard_store(atelier, settings)
    return atelier


def guard_store(atelier: Atelier, settings: Settings) -> None:
    """Fail fast while the store is down, find it again within seconds (store_circuit.py)."""
    datastore = getattr(atelier.recorder, "datastore", None)
    if isinstance(datastore, PostgresDatastore):
        guard_postgres(datastore, settings.postgres_connect_timeout)
    elif isinstance(datastore, SQLiteDatastore):
        guard_sqlite(datastore)
        atelier.store_check = partial(sqlite_writable, datastore)


def build_read_models(settings: Settings, atelier: AtelierBase) -> ReadModels | None:
    """None on a memory store. Cheap: the views share the application's connections."""
    try:
        return ReadModels(atelier, settings.projections_wait_seconds)
    except UnsupportedStore:
        return None


def migrate(settings: Settings) -> None:
    """Create every table once, before `atelier serve` forks workers that skip creation."""
    build_application(settings, create_tables=True).close()


def migrate_when_reachable(settings: Settings) -> None:
    """`migrate`, retried with capped, jittered backoff while the store cannot be reached, so a
    server started before its database waits for it instead of exiting."""
    backoff = Backoff("event store at start-up", 1.0)  # logs once failing, once recovered
    while True:
        try:
            migrate(settings)
        except (OperationalError, psycopg.OperationalError) as error:
            time.sleep(backoff.failed(error))
            continue
        backoff.succeeded()
        return


def background_services(settings: Settings, atelier: Atelier) -> list[BackgroundService]:
    services: list[BackgroundService] = []
    models = build_read_models(settings, atelier)
    if models is not None and settings.projections_in_process:
        runner = models.runner(
            settings.projections_batch_size,
            settings.projections_poll_seconds,
            leadership=leadership(settings, "projections"),
        )
        services.append(runner)  # first started, last stopped
    return [*services, sweeper(atelier, settings.sweep_interval_seconds)]
