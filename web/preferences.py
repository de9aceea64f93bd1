"""`Prefer: wait=N` (RFC 7240): read leniently, as the RFC asks of unknown or invalid ones."""

from __future__ import annotations

from starlette.requests import Request

MIN_WAIT_SECONDS = 1
MAX_WAIT_SECONDS = 60


def preferred_wait(request: Request) -> int | None:
    """N of the first `wait` preference if it is a whole number of 1 to 60 seconds; None when
    absent or invalid (then the request is answered at once, without Preference-Applied)."""
    for header in request.headers.getlist("prefer"):
        for preference in header.split(","):
            name, _, value = preference.split(";", 1)[0].partition("=")
            if name.strip().lower() != "wait":
                continue
            seconds = value.strip().strip('"')
            if seconds.isascii() and seconds.isdigit():
                wait = int(seconds)
                if MIN_WAIT_SECONDS <= wait <= MAX_WAIT_SECONDS:
                    return wait
            return None
    return None
