"""`atelier webhooks run`: create and deliver webhook messages outside the server (it leads
when no server process does; docs/operations.md, "Webhooks")."""

from __future__ import annotations

import argparse
import sys
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    pass


def register(subcommands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subcommands.add_parser("webhooks", help="deliver webhook messages")
    actions = parser.add_subparsers(
        dest="action", required=True, metavar="ACTION", help="what to do with webhooks"
    )
    actions.add_parser(
        "run", help="create and send webhook messages until stopped (Ctrl-C, SIGTERM)"
    )
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from cli.signals import stopping_on_signals
    from infrastructure.bootstrap import build_application, build_read_models
    from infrastructure.settings import load_settings
    from infrastructure.webhooks.service import build_webhooks, webhook_service
    from web.webhook_presenters import webhook_body_json

    settings = load_settings()
    atelier = build_application(settings)
    try:
        models = build_read_models(settings, atelier)
        if models is None:
            print("atelier webhooks: webhooks need SQLite or PostgreSQL", file=sys.stderr)
            return 1
        webhooks, urls = build_webhooks(settings, models, webhook_body_json)
        service = webhook_service(settings, webhooks, models, urls, in_server=False)
        stopping = stopping_on_signals()
        service.start()
        print("atelier webhooks: running (the process that holds the lead delivers)", flush=True)
        while not stopping.wait(1.0):
            pass
        service.stop()
    finally:
        atelier.close()
    return 0
