"""`atelier projections run|rebuild [NAME]|status`: operate the read models outside the server
(docs/projections.md)."""

from __future__ import annotations

import argparse
import sys
from typing import TYPE_CHECKING

from infrastructure.projections.catch_up import REBUILD_BATCH_SIZE
from infrastructure.projections.registry import PROJECTIONS

if TYPE_CHECKING:
    from application.service import Atelier
    from infrastructure.projections.read_models import ReadModels
    from infrastructure.projections.view import ProjectionView
    from infrastructure.settings import Settings

NAMES = [projection.name for projection in PROJECTIONS]


def register(subcommands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subcommands.add_parser("projections", help="run, rebuild or inspect the read models")
    actions = parser.add_subparsers(
        dest="action", required=True, metavar="ACTION", help="what to do with the views"
    )
    actions.add_parser("run", help="keep every view caught up until stopped (Ctrl-C, SIGTERM)")
    rebuild = actions.add_parser("rebuild", help="replay the log into a view (default: all)")
    rebuild.add_argument(
        "name",
        nargs="?",
        choices=NAMES,
        metavar="NAME",
        help="the view to rebuild: " + ", ".join(NAMES) + " (default: all)",
    )
    rebuild.add_argument(
        "--batch-size",
        type=int,
        default=REBUILD_BATCH_SIZE,
        help="events per transaction (default %(default)s)",
    )
    actions.add_parser("status", help="each view's position and lag behind the event log")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from infrastructure.bootstrap import build_application, build_read_models
    from infrastructure.settings import load_settings

    settings = load_settings()
    atelier = build_application(settings)
    try:
        models = build_read_models(settings, atelier)
        if models is None:
            print("atelier projections: the views need SQLite or PostgreSQL", file=sys.stderr)
            return 1
        if args.action == "run":
            run_until_stopped(settings, models)
        elif args.action == "rebuild":
            names = [args.name] if args.name else NAMES
            rebuild(atelier, [models.view(name) for name in names], args.batch_size)
        else:
            print_status(models)
    finally:
        atelier.close()
    return 0


def run_until_stopped(settings: Settings, models: ReadModels) -> None:
    from cli.signals import stopping_on_signals

    stopping = stopping_on_signals()
    runner = models.runner(settings.projections_batch_size, settings.projections_poll_seconds)
    runner.start()
    print_status(models)
    while not stopping.wait(1.0):
        pass
    runner.stop()
    print_status(models)


def rebuild(atelier: Atelier, views: list[ProjectionView], batch_size: int) -> None:
    """Replays the views up to the log's head as of the start, reading the log once for all."""
    from tqdm import tqdm

    from infrastructure.projections.rebuild import rebuild_together

    head = atelier.recorder.max_notification_id() or 0
    names = ", ".join(view.name for view in views)
    with tqdm(
        total=head, desc=names, unit="pos", unit_scale=True, disable=not sys.stderr.isatty()
    ) as bar:

        def advance(read: int, position: int) -> None:
            bar.update(position - bar.n)

        applied = rebuild_together(atelier, views, batch_size, on_batch=advance)
    for view in views:
        print(f"{view.name}: rebuilt from {applied[view.name]} events, position {view.position()}")


def print_status(models: ReadModels) -> None:
    statuses = models.status()
    print(f"{'projection':<20} {'position':>12} {'lag':>12}")
    for status in statuses:
        failing = ""
        if status.failing:
            since = status.failing_since.isoformat() if status.failing_since else "?"
            at = status.failed_at_position
            failing = f"  FAILING after position {at} since {since}: {status.error}"
        print(f"{status.name:<20} {status.position:>12} {status.lag:>12}{failing}")
    print(f"{'log head':<20} {models.freshness.head():>12}")
