"""`atelier audit [--json]`: replay the whole history, check every invariant, exit 1 if broken."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager


def register(subcommands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subcommands.add_parser(
        "audit", help="replay the whole event history and check every invariant"
    )
    parser.add_argument(
        "--json", action="store_true", help="print the report as JSON (default: as text)"
    )
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from infrastructure.audit.parallel import audit_in_parallel
    from infrastructure.audit.render import report_text
    from infrastructure.bootstrap import build_application
    from infrastructure.settings import load_settings

    settings = load_settings()
    atelier = build_application(settings)
    try:
        total = atelier.recorder.max_notification_id() or 0
        with progress_bar(total) as progress:
            report = audit_in_parallel(settings, atelier, progress)
    finally:
        atelier.close()
    if args.json:
        print(json.dumps(report.as_dict(), indent=2))
    else:
        print(report_text(report))
    return 0 if report.clean else 1


@contextmanager
def progress_bar(total: int) -> Iterator[Callable[[int], None] | None]:
    """A tqdm bar on stderr when it is a terminal; nothing otherwise."""
    if not sys.stderr.isatty():
        yield None
        return
    from tqdm import tqdm

    with tqdm(total=total, unit="event", unit_scale=True, desc="audit", file=sys.stderr) as bar:

        def advance(position: int) -> None:
            bar.update(position - bar.n)

        yield advance
