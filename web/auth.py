"""Who is calling, and may they: bearer tokens, roles, and the account gate of user routes."""

from __future__ import annotations

import hmac
from collections.abc import Callable
from typing import TypeVar

from starlette.requests import Request

from application.principals import InvalidToken, Principal, TokenVerification
from web.errors import ApiError
from web.requests import in_thread
from web.schemas import require_safe_request_text

UNAUTHENTICATED = {"WWW-Authenticate": "Bearer"}
T = TypeVar("T")


def authenticate(request: Request) -> Principal:
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise ApiError(
            401, "AUTHENTICATION_REQUIRED", "Authentication required", headers=dict(UNAUTHENTICATED)
        )
    try:
        verifier: TokenVerification = request.app.state.tokens
        principal = verifier.verify(token.strip())
    except InvalidToken:
        raise ApiError(
            401,
            "AUTHENTICATION_REQUIRED",
            "Invalid or expired credentials",
            headers=dict(UNAUTHENTICATED),
        ) from None
    request.state.user_id = principal.user_id  # for the request's log line
    return principal


def require_metrics_token(request: Request) -> None:
    """With METRICS_TOKEN set, /metrics needs `Authorization: Bearer <METRICS_TOKEN>`."""
    expected: str | None = request.app.state.metrics_token
    if expected is None:
        return
    scheme, _, given = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not hmac.compare_digest(
        given.strip().encode(), expected.encode()
    ):
        raise ApiError(
            401,
            "AUTHENTICATION_REQUIRED",
            "The metrics need their bearer token",
            headers=dict(UNAUTHENTICATED),
        )


def require_role(request: Request, *roles: str) -> Principal:
    principal = authenticate(request)
    if principal.role not in roles:
        raise ApiError(403, "FORBIDDEN", "This route needs the role " + " or ".join(roles))
    require_safe_request_text(request)
    return principal


async def user_principal(request: Request) -> Principal:
    """A caller with an open, enabled account."""
    principal = authenticate(request)
    await in_thread(request.app.state.atelier.require_active_account, principal.user_id)
    require_safe_request_text(request)
    return principal


async def as_active_user(request: Request, then: Callable[[Principal], T]) -> T:
    """`user_principal`, then `then(principal)`, in one trip to the thread pool: a hand-off
    between threads cost a read more than its queries (docs/benchmarks.md, issue 18)."""
    principal = authenticate(request)
    atelier = request.app.state.atelier

    def checked_then() -> T:
        atelier.require_active_account(principal.user_id)
        require_safe_request_text(request)
        return then(principal)

    return await in_thread(checked_then)


def admin_principal(request: Request) -> Principal:
    return require_role(request, "admin")


def worker_principal(request: Request) -> Principal:
    """Workers, and admins acting as one."""
    return require_role(request, "worker", "admin")
