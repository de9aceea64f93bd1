"""One table from every refusal to its status and code, and the handlers that render them."""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field

from eventsourcing.persistence import InterfaceError, OperationalError
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response

from application.errors import (
    AccountExists,
    AccountNotFound,
    Contention,
    GenerationNotFound,
    SubmissionsClosed,
)
from application.webhooks import EndpointGone, WebhookNotFound
from domain.errors import (
    AccountDisabled,
    DomainError,
    FieldProblem,
    IdempotencyKeyReused,
    InsufficientTokens,
    InvalidAmount,
    InvalidImages,
    InvalidRequest,
    InvalidTransition,
    ModelUnavailable,
    QueueFull,
    RateLimitExceeded,
)
from web.responses import error_response

logger = logging.getLogger(__name__)


@dataclass
class ApiError(Exception):
    """A refusal decided by the web layer itself (credentials, body, schema, roles)."""

    status_code: int
    code: str
    message: str
    details: str | None = None
    problems: list[FieldProblem] = field(default_factory=list)
    headers: dict[str, str] = field(default_factory=dict)


ERROR_TABLE: dict[type[DomainError], tuple[int, str]] = {
    AccountNotFound: (401, "AUTHENTICATION_REQUIRED"),
    AccountDisabled: (403, "ACCOUNT_DISABLED"),
    GenerationNotFound: (404, "NOT_FOUND"),
    InvalidRequest: (400, "VALIDATION_ERROR"),
    InvalidAmount: (400, "VALIDATION_ERROR"),
    ModelUnavailable: (400, "MODEL_ERROR"),
    InvalidImages: (400, "IMAGE_VALIDATION_ERROR"),
    InsufficientTokens: (400, "INSUFFICIENT_TOKENS"),
    InvalidTransition: (409, "INVALID_STATE"),
    AccountExists: (409, "ACCOUNT_EXISTS"),
    IdempotencyKeyReused: (422, "IDEMPOTENCY_KEY_REUSED"),
    RateLimitExceeded: (429, "RATE_LIMIT_EXCEEDED"),
    QueueFull: (503, "QUEUE_FULL"),
    SubmissionsClosed: (503, "SERVICE_UNAVAILABLE"),
    Contention: (503, "SERVICE_UNAVAILABLE"),
    WebhookNotFound: (404, "NOT_FOUND"),
    EndpointGone: (409, "INVALID_STATE"),
}
HTTP_CODES = {404: "NOT_FOUND", 405: "METHOD_NOT_ALLOWED"}
MAX_VALIDATION_ERRORS = 20  # API.md: an error answer stays small whatever the request
QUEUE_FULL_RETRY_AFTER_SECONDS = 30
CONTENTION_RETRY_AFTER_SECONDS = 1
STORE_RETRY_AFTER_SECONDS = 5


def _table_entry(error: DomainError) -> tuple[int, str] | None:
    for cls in type(error).__mro__:
        if cls in ERROR_TABLE:
            return ERROR_TABLE[cls]
    return None


def error_code_of(error: BaseException) -> str:
    """The code the answer to `error` carries, for the metrics (the handlers render it)."""
    if isinstance(error, ApiError):
        return error.code
    if isinstance(error, DomainError):
        entry = _table_entry(error)
        return "SERVER_ERROR" if entry is None else entry[1]
    if isinstance(error, OperationalError | InterfaceError):
        return "SERVICE_UNAVAILABLE"
    if isinstance(error, HTTPException):
        return HTTP_CODES.get(error.status_code, "SERVER_ERROR")
    return "SERVER_ERROR"


def api_error_for(error: DomainError) -> ApiError:
    entry = _table_entry(error)
    if entry is None:  # a DomainError nobody mapped is a bug, not a client error
        raise error
    status_code, code = entry
    answer = ApiError(status_code, code, str(error))
    if isinstance(error, InvalidRequest | InvalidImages):
        answer.problems = list(error.problems)
    elif isinstance(error, InsufficientTokens):
        answer.details = f"You need {error.shortfall} more tokens to proceed."
    elif isinstance(error, RateLimitExceeded):
        wait = str(error.retry_after_seconds)
        answer.headers |= {
            "Retry-After": wait,
            "RateLimit-Limit": str(error.limit),
            "RateLimit-Remaining": "0",
            "RateLimit-Reset": wait,
        }
    elif isinstance(error, QueueFull):
        answer.headers["Retry-After"] = str(QUEUE_FULL_RETRY_AFTER_SECONDS)
    elif isinstance(error, Contention):
        answer.headers["Retry-After"] = str(CONTENTION_RETRY_AFTER_SECONDS)
    elif isinstance(error, AccountNotFound):
        answer.headers["WWW-Authenticate"] = "Bearer"
    return answer


def request_id_of(request: Request) -> str:
    return str(getattr(request.state, "request_id", ""))


def render_api_error(request: Request, error: ApiError) -> Response:
    request.state.error_code = error.code  # for the request's log line
    aliases: dict[str, str] = getattr(request.state, "field_aliases", {})
    shown = error.problems[:MAX_VALIDATION_ERRORS]
    problems = [FieldProblem(aliases.get(p.field, p.field), p.message) for p in shown]
    details = error.details
    left_out = len(error.problems) - len(shown)
    if left_out:
        note = f"{left_out} more validation errors were left out."
        details = note if details is None else f"{details} {note}"
    return error_response(
        error.status_code,
        error.code,
        error.message,
        request_id_of(request),
        details=details,
        problems=problems,
        headers=error.headers,
    )


async def handle_api_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, ApiError)
    return render_api_error(request, exc)


async def handle_domain_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, DomainError)
    return render_api_error(request, api_error_for(exc))


class StoreFailureLog:
    """One log line per quiet minute of store failures, not one per refused request."""

    def __init__(self) -> None:
        self.next_at = 0.0
        self.unlogged = 0

    def note(self, error: Exception) -> None:
        now = time.monotonic()
        if now < self.next_at:
            self.unlogged += 1
            return
        more = f" ({self.unlogged} more since the last line)" if self.unlogged else ""
        logger.warning("event store failure, answered 503: %r%s", error, more)
        self.next_at, self.unlogged = now + STORE_FAILURE_LOG_SECONDS, 0


STORE_FAILURE_LOG_SECONDS = 60.0
store_failures = StoreFailureLog()


async def handle_store_failure(request: Request, exc: Exception) -> Response:
    """The event store is out of reach: 503, never a 500, and the details only in the log."""
    store_failures.note(exc)
    return render_api_error(
        request,
        ApiError(
            503,
            "SERVICE_UNAVAILABLE",
            "The service is temporarily unavailable. Please retry shortly.",
            headers={"Retry-After": str(STORE_RETRY_AFTER_SECONDS)},
        ),
    )


async def handle_http_exception(request: Request, exc: Exception) -> Response:
    """Starlette's own 404/405 in the contract's error body."""
    assert isinstance(exc, HTTPException)
    code = HTTP_CODES.get(exc.status_code, "SERVER_ERROR")
    message = "Not found" if exc.status_code == 404 else str(exc.detail)
    return render_api_error(
        request, ApiError(exc.status_code, code, message, headers=dict(exc.headers or {}))
    )


EXCEPTION_HANDLERS = {
    ApiError: handle_api_error,
    OperationalError: handle_store_failure,
    InterfaceError: handle_store_failure,
    DomainError: handle_domain_error,
    HTTPException: handle_http_exception,
}
