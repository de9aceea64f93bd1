"""The response headers the contract names, as OpenAPI header objects."""

from __future__ import annotations

from typing import Any

INTEGER = {"type": "integer", "minimum": 0}

HEADERS: dict[str, dict[str, Any]] = {
    "X-Request-ID": {
        "description": "The request's id: the client's own X-Request-ID when it is 1-128 "
        "characters of `A-Za-z0-9._:-`, a fresh one otherwise; errors repeat it as `requestId`.",
        "schema": {"type": "string"},
    },
    "Location": {
        "description": "The path (never a full URL) of what was created.",
        "schema": {"type": "string", "pattern": "^/api/"},
    },
    "RateLimit-Limit": {
        "description": "Accepted generations allowed per rolling hour (absent when rate "
        "limiting is off).",
        "schema": INTEGER,
    },
    "RateLimit-Remaining": {
        "description": "How many more the caller may submit in the current window.",
        "schema": INTEGER,
    },
    "RateLimit-Reset": {
        "description": "Seconds until the oldest counted submission leaves the window.",
        "schema": INTEGER,
    },
    "Retry-After": {"description": "Seconds to wait before trying again.", "schema": INTEGER},
    "Idempotent-Replayed": {
        "description": "`true` when this is the first answer to the same Idempotency-Key, "
        "replayed: nothing was reserved, granted or counted again.",
        "schema": {"type": "string", "enum": ["true"]},
    },
    "WWW-Authenticate": {"description": "`Bearer`.", "schema": {"type": "string"}},
    "Content-Security-Policy": {
        "description": "The page loads nothing but the service's own stylesheet.",
        "schema": {"type": "string"},
    },
    "Preference-Applied": {
        "description": "`wait=N`: the request was held (up to N seconds) as `Prefer: wait=N` "
        "asked; absent when the preference was absent, invalid or not applied.",
        "schema": {"type": "string", "pattern": "^wait=[0-9]+$"},
    },
    "Cache-Control": {
        "description": "`no-cache`: revalidate each time.",
        "schema": {"type": "string"},
    },
    "X-Accel-Buffering": {
        "description": "`no`: proxies must pass each frame on at once.",
        "schema": {"type": "string", "enum": ["no"]},
    },
}
