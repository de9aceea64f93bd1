"""`atelier token`: print a bearer token signed with the service's secret."""

from __future__ import annotations

import argparse

from application.principals import ROLES


def register(subcommands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subcommands.add_parser("token", help="print a bearer token for a user")
    parser.add_argument("user_id", metavar="USER_ID", help="the user the token speaks for")
    parser.add_argument(
        "--role", choices=ROLES, default="user", help="what the token may do (default %(default)s)"
    )
    parser.add_argument(
        "--ttl",
        type=int,
        default=3600,
        metavar="SECONDS",
        help="lifetime in seconds (default %(default)s)",
    )
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    if args.ttl < 1:
        raise SystemExit("atelier token: --ttl must be a positive number of seconds")
    from infrastructure.secrets import auth_secret
    from infrastructure.settings import load_settings
    from infrastructure.tokens import mint_token

    secret = auth_secret(load_settings())
    try:
        print(mint_token(secret, args.user_id, role=args.role, ttl_seconds=args.ttl))
    except ValueError as error:
        raise SystemExit(f"atelier token: {error}") from None
    return 0
