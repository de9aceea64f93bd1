"""`atelier serve`: the HTTP service under uvicorn, with one or several worker processes."""

from __future__ import annotations

import argparse
import asyncio
from functools import partial
from typing import cast


def register(subcommands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subcommands.add_parser("serve", help="run the HTTP service")
    parser.add_argument(
        "--host", default="127.0.0.1", help="address to listen on (default %(default)s)"
    )
    parser.add_argument(
        "--port", type=int, default=8000, help="TCP port to listen on (default %(default)s)"
    )
    parser.add_argument(
        "--workers",
        type=positive,
        default=1,
        help="uvicorn worker processes (default %(default)s)",
    )
    parser.add_argument(
        "--no-access-log",
        action="store_true",
        help="do not log a line for each request (default: log them)",
    )
    parser.set_defaults(run=run)


def positive(text: str) -> int:
    if not text.isascii() or not text.isdigit() or int(text) < 1:
        raise argparse.ArgumentTypeError(f"must be a whole number of at least 1, not {text!r}")
    return int(text)


def run(args: argparse.Namespace) -> int:
    """Tables and the development secret are made once, before uvicorn starts its workers;
    the workers share one fresh directory of metric files (docs/operations.md, "Metrics")."""
    import uvicorn

    from infrastructure.bootstrap import migrate_when_reachable
    from infrastructure.logs.config import configure_logging, logging_config
    from infrastructure.metrics.processes import metrics_directory
    from infrastructure.secrets import auth_secret
    from infrastructure.settings import load_settings
    from web.server_protocol import AtelierHttpProtocol, PortLimits

    settings = load_settings()
    log_config = logging_config(settings, request_lines=not args.no_access_log)
    configure_logging(settings, request_lines=not args.no_access_log)
    migrate_when_reachable(settings)
    auth_secret(settings, warn=True)  # the one warning of a development secret
    limits = PortLimits(request_timeout_seconds=settings.request_timeout_seconds)
    protocol = partial(AtelierHttpProtocol, limits=limits)  # pickled into each worker process
    with metrics_directory():
        uvicorn.run(
            "web.asgi:app_on_migrated_store",
            factory=True,
            host=args.host,
            port=args.port,
            workers=args.workers if args.workers > 1 else None,
            loop="uvloop",
            http=cast(type[asyncio.Protocol], protocol),  # httptools with the port rules
            access_log=False,  # each request's line is ours (infrastructure/logs/request_log.py)
            log_config=log_config,  # applied again in each worker process
            log_level=None,
        )
    return 0
