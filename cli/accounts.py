"""`atelier accounts open|grant|show`: operate on accounts without going through HTTP."""

from __future__ import annotations

import argparse
import json
import sys
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from application.views import AccountSummary


def register(subcommands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subcommands.add_parser("accounts", help="open, grant to, or show an account")
    actions = parser.add_subparsers(
        dest="action", required=True, metavar="ACTION", help="what to do with the account"
    )
    opening = actions.add_parser("open", help="open an account")
    opening.add_argument("user_id", metavar="USER_ID", help="the account's user id")
    opening.add_argument(
        "--tokens", type=int, default=0, help="opening grant (default %(default)s)"
    )
    granting = actions.add_parser("grant", help="grant tokens")
    granting.add_argument("user_id", metavar="USER_ID", help="the account's user id")
    granting.add_argument("amount", type=int, metavar="N", help="how many tokens to grant")
    granting.add_argument("--reason", required=True, help="why, recorded with the grant (required)")
    showing = actions.add_parser("show", help="show an account")
    showing.add_argument("user_id", metavar="USER_ID", help="the account's user id")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from pydantic import TypeAdapter, ValidationError

    from application.errors import AccountExists, AccountNotFound
    from domain.errors import InvalidAmount, InvalidRequest
    from infrastructure.bootstrap import build_application
    from infrastructure.settings import load_settings
    from web.schemas import Reason

    if args.action == "grant":
        try:
            TypeAdapter(Reason).validate_python(args.reason)
        except ValidationError as error:  # the API's rule for a grant's reason
            problem = error.errors()[0]["msg"]
            print(f"atelier accounts grant: reason: {problem}", file=sys.stderr)
            return 1
    atelier = build_application(load_settings())
    try:
        if args.action == "open":
            summary = atelier.open_account(args.user_id, args.tokens)
        elif args.action == "grant":
            summary, _ = atelier.grant_tokens(args.user_id, args.amount, args.reason)
        else:
            summary = atelier.get_account(args.user_id)
    except (AccountExists, AccountNotFound, InvalidAmount, InvalidRequest) as error:
        message = f"no account for {args.user_id}" if isinstance(error, AccountNotFound) else error
        print(f"atelier accounts {args.action}: {message}", file=sys.stderr)
        return 1
    finally:
        atelier.close()
    print(json.dumps(account_record(summary), indent=2))
    return 0


def account_record(summary: AccountSummary) -> dict[str, object]:
    from web.presenters import account_fields

    return {**account_fields(summary.record), "version": summary.record.version}
