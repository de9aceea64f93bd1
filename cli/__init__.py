"""The `atelier` command: one sub-command group per module, each registering its own parser.
A command imports what it needs when it runs, so `--help` and `atelier token` start quickly."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence

from cli import accounts, audit, history, openapi, projections, serve, tokens, webhooks, worker

COMMAND_GROUPS = [serve, tokens, accounts, worker, projections, audit, history, webhooks, openapi]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="atelier", description="Atelier: the generation submission service."
    )
    subcommands = parser.add_subparsers(
        dest="command", required=True, metavar="COMMAND", help="what to do; COMMAND --help for more"
    )
    for group in COMMAND_GROUPS:
        group.register(subcommands)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Configuration problems exit with status 2 and name the variable."""
    args = build_parser().parse_args(argv)
    from infrastructure.logs.config import configure_logging
    from infrastructure.settings import SettingsError, load_log_settings

    try:
        configure_logging(load_log_settings())  # LOG_FORMAT, LOG_LEVEL: before anything logs
        status: int = args.run(args)
        sys.stdout.flush()  # a reader that went away is found out here, not at exit
    except SettingsError as error:
        print(f"atelier: {error}", file=sys.stderr)
        return 2
    except BrokenPipeError:
        # `atelier audit --json | head`: else Python complains again when it flushes at exit.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 1
    return status


if __name__ == "__main__":
    sys.exit(main())
