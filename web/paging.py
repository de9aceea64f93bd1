"""Paged lists: `limit`, and the opaque `cursor` a previous page handed out as `nextCursor`."""

from __future__ import annotations

import base64
import binascii
import re
from dataclasses import dataclass

from starlette.requests import Request

from domain.errors import FieldProblem

LIMIT_DIGITS = re.compile(r"^[0-9]{1,6}$")
POSITION_DIGITS = re.compile(r"^[0-9]{1,18}$")  # fits a signed 64-bit column


@dataclass(frozen=True)
class Cursors:
    """One list's cursors: a versioned prefix and a position, base64url-encoded."""

    prefix: str

    def encode(self, position: int | None) -> str | None:
        if position is None:
            return None
        text = f"{self.prefix}{position}"
        return base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")

    def decode(self, cursor: str) -> int | None:
        """None unless this list could have handed the cursor out."""
        padded = cursor + "=" * (-len(cursor) % 4)
        try:
            text = base64.b64decode(padded, altchars=b"-_", validate=True).decode("ascii")
        except (binascii.Error, ValueError):
            return None
        number = text.removeprefix(self.prefix)
        if number == text or not POSITION_DIGITS.match(number):
            return None
        return int(number) or None


def unknown_or_repeated_parameters(
    request: Request, allowed: tuple[str, ...]
) -> list[FieldProblem]:
    params = request.query_params
    problems = [
        FieldProblem(name, "Unknown query parameter; use " + " or ".join(allowed))
        for name in params
        if name not in allowed
    ]
    problems += [
        FieldProblem(name, f"{name} may be given only once")
        for name in allowed
        if len(params.getlist(name)) > 1
    ]
    return problems


@dataclass(frozen=True)
class Paging:
    limit: int
    position: int | None


def paging_from(
    request: Request,
    cursors: Cursors,
    allowed: tuple[str, ...],
    default_limit: int,
    max_limit: int,
    problems: list[FieldProblem],
) -> Paging:
    """Appends to `problems` each bad, unknown or repeated parameter; empty counts as absent."""
    params = request.query_params
    problems += unknown_or_repeated_parameters(request, allowed)
    raw_limit = params.get("limit") or str(default_limit)
    limit = int(raw_limit) if LIMIT_DIGITS.match(raw_limit) else 0
    if not 1 <= limit <= max_limit:
        problems.append(FieldProblem("limit", f"limit must be an integer from 1 to {max_limit}"))
    raw_cursor = params.get("cursor") or None
    position = None if raw_cursor is None else cursors.decode(raw_cursor)
    if raw_cursor is not None and position is None:
        problems.append(FieldProblem("cursor", "cursor is not one this list handed out"))
    return Paging(limit, position)


def bounded_integer(
    request: Request, name: str, default: int, low: int, high: int, problems: list[FieldProblem]
) -> int:
    """The query parameter `name` as an integer from `low` to `high`; empty counts as absent."""
    raw = request.query_params.get(name) or str(default)
    value = int(raw) if LIMIT_DIGITS.match(raw) else low - 1
    if not low <= value <= high:
        problems.append(FieldProblem(name, f"{name} must be an integer from {low} to {high}"))
    return value
