"""An event's time as the read models store it: whole microseconds since the epoch.

Several read models' checks ask for the same event's time in turn (a request's time is its
row's creation time in two read models), so the last conversion is kept.
"""

from __future__ import annotations

from typing import Any

from application.audit.reading import moment
from infrastructure.projections.sql import micros

_last: tuple[str | None, int] = (None, 0)  # (stored ISO text, its microseconds)


def moment_micros(value: Any) -> int:
    """`micros(moment(value))`, for a datetime or a datetime still in its stored form."""
    global _last  # noqa: PLW0603 - a one-entry cache on the audit's hottest path
    text = value.get("_data_") if type(value) is dict else None
    if text is not None and text == _last[0]:
        return _last[1]
    result = micros(moment(value))
    if text is not None:
        _last = (text, result)
    return result
