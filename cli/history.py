"""`atelier history ID`: an aggregate's events as a readable timeline, oldest first."""

from __future__ import annotations

import argparse
import json
import sys
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any
from uuid import UUID

if TYPE_CHECKING:
    from application.history import HistoryEntry, HistoryPage
    from application.service import Atelier


def register(subcommands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subcommands.add_parser(
        "history", help="print an aggregate's events (a generation id, or a user id)"
    )
    parser.add_argument("id", metavar="ID", help="a generation id, or a user id for its account")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from application.errors import AccountNotFound
    from infrastructure.bootstrap import build_application
    from infrastructure.settings import load_settings

    atelier = build_application(load_settings())
    try:
        pages = list(all_pages(atelier, args.id))
    except AccountNotFound:
        print(f"atelier history: nothing is recorded for {args.id}", file=sys.stderr)
        return 1
    finally:
        atelier.close()
    print(timeline_text(pages))
    return 0


def all_pages(atelier: Atelier, identifier: str) -> list[HistoryPage]:
    pages = [atelier.aggregate_history(identifier)]
    while pages[-1].next_after is not None:
        pages.append(atelier.aggregate_history(identifier, after=pages[-1].next_after))
    return pages


def timeline_text(pages: list[HistoryPage]) -> str:
    entries = [entry for page in pages for entry in page.entries]
    first = pages[0]
    owner = entries[0].data.get("user_id") if entries else None
    whose = f" of {owner}" if owner else ""
    lines = [f"{first.kind} {first.aggregate_id}{whose}: {len(entries)} events, oldest first", ""]
    for entry in entries:
        lines += entry_lines(entry)
    return "\n".join(lines).rstrip()


def entry_lines(entry: HistoryEntry) -> list[str]:
    lines = [f"v{entry.version:<4} {moment_text(entry.timestamp)}  {entry.type}"]
    width = max((len(name) for name in entry.data), default=0)
    lines += [f"      {name:<{width}}  {value_text(value)}" for name, value in entry.data.items()]
    lines.append("")
    return lines


def moment_text(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def value_text(value: Any) -> str:
    if isinstance(value, datetime):
        return moment_text(value)
    if isinstance(value, str):
        return value
    return json.dumps(value, default=plain, ensure_ascii=False)


def plain(value: Any) -> Any:
    if isinstance(value, datetime):
        return moment_text(value)
    if isinstance(value, UUID):
        return str(value)
    raise TypeError(f"{type(value).__name__} is not printable")
