"""`atelier worker [--once]`: claim generations and run them through the configured generator
(docs/lifecycle.md, "Workers")."""

from __future__ import annotations

import argparse
import json
import logging
import os
import signal
import socket
import threading
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from types import FrameType

    from application.ports import ImageGenerator
    from application.service import Atelier
    from application.work import WorkOutcome

logger = logging.getLogger("atelier.worker")

IDLE_POLL_SECONDS = 2.0
CREATE_TABLES_VARIABLE = "ATELIER_CREATE_TABLES"


def register(subcommands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subcommands.add_parser("worker", help="claim and run generations")
    parser.add_argument(
        "--once",
        action="store_true",
        help="sweep, run one generation, exit (default: run until stopped)",
    )
    parser.add_argument(
        "--worker-id", default=None, help="name recorded on claims (default HOST:PID)"
    )
    parser.add_argument(
        "--poll",
        type=float,
        default=IDLE_POLL_SECONDS,
        metavar="SECONDS",
        help="wait between claims when the queue is empty (default %(default)s)",
    )
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    """Everything is built first, so a configuration problem stops the worker before any claim."""
    from infrastructure.bootstrap import background_services, build_application
    from infrastructure.generators import build_generator
    from infrastructure.settings import load_settings

    stopping = threading.Event()
    if not args.once:
        stop_on_signals(stopping)  # before the slow start-up, so an early SIGTERM is clean
    settings = load_settings()
    generator = build_generator(settings)
    create_tables = os.environ.get(CREATE_TABLES_VARIABLE, "y") != "n"
    atelier = build_application(settings, create_tables=create_tables)
    worker_id = args.worker_id or f"{socket.gethostname()}:{os.getpid()}"
    services = background_services(settings, atelier)
    for service in services:
        service.start()
    logger.info("worker %s ready with GENERATOR=%s", worker_id, generator.name)
    try:
        if args.once:
            atelier.sweep()
            print_outcome(atelier.work_once(worker_id, generator))
            return 0
        return work_forever(atelier, worker_id, generator, args.poll, stopping)
    finally:
        for service in reversed(services):
            service.stop()
        close = getattr(generator, "close", None)
        if callable(close):
            close()
        atelier.close()


def stop_on_signals(stopping: threading.Event) -> None:
    def stop(signum: int, frame: FrameType | None) -> None:
        logger.info("worker stops after the generation in hand (signal %d)", signum)
        stopping.set()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)


def work_forever(
    atelier: Atelier,
    worker_id: str,
    generator: ImageGenerator,
    poll_seconds: float,
    stopping: threading.Event,
) -> int:
    from infrastructure.background import Backoff

    backoff = Backoff(f"worker {worker_id}", poll_seconds)  # logs once failing, once recovered
    while not stopping.is_set():
        try:
            outcome = atelier.work_once(worker_id, generator)
        except Exception as error:
            stopping.wait(backoff.failed(error))  # capped, jittered, while the store is down
            continue
        backoff.succeeded()
        if outcome is None:
            stopping.wait(poll_seconds)
        else:
            print_outcome(outcome)
    return 0


def print_outcome(outcome: WorkOutcome | None) -> None:
    if outcome is None:
        record: dict[str, object] = {"generationId": None}
    else:
        record = {
            "generationId": str(outcome.generation_id),
            "status": outcome.status,
            "error": outcome.error,
            "resultImages": outcome.result_images,
        }
    print(json.dumps(record), flush=True)
