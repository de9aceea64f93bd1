"""`atelier openapi`: print the OpenAPI document /openapi.json serves, with no server or store."""

from __future__ import annotations

import argparse


def register(subcommands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subcommands.add_parser(
        "openapi", help="print the OpenAPI 3.1 document of the HTTP API (as GET /openapi.json)"
    )
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    import json

    from web.app import ROUTES
    from web.openapi.document import openapi_document

    print(json.dumps(openapi_document(ROUTES), ensure_ascii=False, indent=1))
    return 0
