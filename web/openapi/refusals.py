"""The refusals operations share, grouped as the routes combine them."""

from __future__ import annotations

from web.openapi.operation import Refusal

NO_CREDENTIALS = Refusal(
    401,
    "AUTHENTICATION_REQUIRED",
    "no bearer token, or one that is malformed, badly signed, expired, or not HS256",
    headers=("WWW-Authenticate",),
)
NO_ACCOUNT = Refusal(
    401,
    "AUTHENTICATION_REQUIRED",
    'a valid token whose user has no account (`error: "User not found"`)',
    headers=("WWW-Authenticate",),
)
ACCOUNT_DISABLED = Refusal(403, "ACCOUNT_DISABLED", "the caller's account is disabled")
WRONG_ROLE = Refusal(403, "FORBIDDEN", "the token's role may not use this route")
BAD_TEXT = Refusal(
    400,
    "VALIDATION_ERROR",
    "a query or path parameter, Idempotency-Key or X-Request-ID holds NUL, a control "
    "character or a lone surrogate; or a query parameter is unknown, repeated or out of range",
)
BAD_BODY = Refusal(
    400,
    "VALIDATION_ERROR",
    "the body is not a JSON object, has an unknown field, or breaks the schema; "
    "`validationErrors` names each field",
)
TOO_LARGE = Refusal(413, "REQUEST_TOO_LARGE", "the body is over MAX_REQUEST_BYTES (default 1 MiB)")
NOT_JSON = Refusal(
    415, "UNSUPPORTED_MEDIA_TYPE", "a Content-Type other than application/json in UTF-8"
)
STORE_DOWN = Refusal(
    503,
    "SERVICE_UNAVAILABLE",
    "the event store is out of reach, or a write kept losing races: retry",
    headers=("Retry-After",),
)
GENERATION_NOT_FOUND = Refusal(
    404, "NOT_FOUND", "no such generation, a malformed id, or another user's"
)
ACCOUNT_NOT_FOUND = Refusal(404, "NOT_FOUND", "no account for this user id")
INVALID_STATE = Refusal(
    409,
    "INVALID_STATE",
    "the generation's status does not allow this, or the caller does not hold its current lease",
)
READ_MODELS_MISSING = Refusal(
    503, "SERVICE_UNAVAILABLE", "the store is in memory, where the read models cannot run"
)

# Every operation, at the port: a request too slow to arrive, one whose head is too large,
# and anything unexpected.
AT_THE_PORT = (
    Refusal(408, "REQUEST_TIMEOUT", "the request stopped arriving for REQUEST_TIMEOUT_SECONDS"),
    Refusal(431, "REQUEST_TOO_LARGE", "request headers over 16 KiB or over 100 of them"),
    Refusal(500, "SERVER_ERROR", "an unexpected failure; the body says nothing of internals"),
)
USER_ROUTE = (NO_CREDENTIALS, NO_ACCOUNT, ACCOUNT_DISABLED, BAD_TEXT, STORE_DOWN)
ADMIN_ROUTE = (NO_CREDENTIALS, WRONG_ROLE, BAD_TEXT, STORE_DOWN)
WORKER_ROUTE = ADMIN_ROUTE
JSON_BODY = (BAD_BODY, TOO_LARGE, NOT_JSON)
