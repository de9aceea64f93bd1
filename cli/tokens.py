"""`atelier token`: print a bearer token signed with the service's secret."""

from __future__ import annotations

import argparse

from infrastructure.secrets import auth_secret
from infrastructure.settings import load_settings
from infrastructure.tokens import ROLES, mint_token


def register(subcommands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subcommands.add_parser("token", help="print a bearer token for a user")
    parser.add_argument("user_id", metavar="USER_ID")
    parser.add_argument("--role", choices=ROLES, default="user")
    parser.add_argument(
        "--ttl",
        type=int,
        default=3600,
        metavar="SECONDS",
        help="lifetime in seconds (default 3600)",
    )
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    if args.ttl < 1:
        raise SystemExit("atelier token: --ttl must be a positive number of seconds")
    secret = auth_secret(load_settings())
    try:
        print(mint_token(secret, args.user_id, role=args.role, ttl_seconds=args.ttl))
    except ValueError as error:
        raise SystemExit(f"atelier token: {error}") from None
    return 0
