"""Parameters several operations share, with the limits the handlers enforce."""

from __future__ import annotations

from domain.generations import STATUSES
from domain.identifiers import USER_ID as USER_ID_PATTERN
from web.openapi.operation import Parameter

REQUEST_ID = Parameter(
    "X-Request-ID",
    "header",
    {"type": "string", "maxLength": 128},
    "Optional: your id for this request, echoed in the X-Request-ID answer header and the "
    "error body's `requestId` when it is 1-128 characters of `A-Za-z0-9._:-`.",
    example="checkout-7f3a",
)
IDEMPOTENCY_KEY = Parameter(
    "Idempotency-Key",
    "header",
    {"type": "string", "minLength": 1, "maxLength": 255, "pattern": "^[\\x20-\\x7e]+$"},
    "Optional, 1-255 printable ASCII characters, scoped to the account and kept "
    "IDEMPOTENCY_TTL_SECONDS (default one day): the same key with the same body answers the "
    "first 201 again (with `Idempotent-Replayed: true`); with another body, 422.",
    example="order-1234-attempt",
)
GENERATION_ID = Parameter(
    "generation_id",
    "path",
    {"type": "string", "format": "uuid"},
    "The generation's `_id`. A malformed or unknown id, or another user's, is 404.",
    example="0b8e3f9a-4c52-4d8f-9a43-2f6a1c7e5d10",
    required=True,
)
USER_ID = Parameter(
    "user_id",
    "path",
    {"type": "string", "pattern": USER_ID_PATTERN.pattern},
    "The account's user id (the token's `sub`): 1-128 characters of `A-Za-z0-9_.@:-`.",
    example="alice",
    required=True,
)
PREFER = Parameter(
    "Prefer",
    "header",
    {"type": "string", "maxLength": 256},
    "Optional, RFC 7240: `wait=N` (N a whole number of seconds, 1-60) holds the answer until "
    "the generation has ended or N seconds have passed; then `Preference-Applied: wait=N` "
    "comes with it. Any other value, or another preference, is ignored.",
    example="wait=10",
)
CURSOR = Parameter(
    "cursor",
    "query",
    {"type": "string", "maxLength": 64},
    "The `nextCursor` of the previous page; a cursor this list did not hand out is 400.",
)
STATUS = Parameter(
    "status",
    "query",
    {"type": "string", "enum": list(STATUSES)},
    "Only generations in this status.",
    example="pending",
)


def limit(default: int, most: int) -> Parameter:
    return Parameter(
        "limit",
        "query",
        {"type": "integer", "minimum": 1, "maximum": most, "default": default},
        f"Items per page, 1-{most} (default {default}).",
        example=default,
    )
