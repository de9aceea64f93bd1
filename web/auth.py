"""Who is calling, and may they: bearer tokens, roles, and the account gate of user routes."""

from __future__ import annotations

from starlette.requests import Request

from application.principals import InvalidToken, Principal, TokenVerification
from web.errors import ApiError
from web.requests import in_thread
from web.schemas import require_safe_request_text

UNAUTHENTICATED = {"WWW-Authenticate": "Bearer"}


def authenticate(request: Request) -> Principal:
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise ApiError(
            401, "AUTHENTICATION_REQUIRED", "Authentication required", headers=dict(UNAUTHENTICATED)
        )
    try:
        verifier: TokenVerification = request.app.state.tokens
        return verifier.verify(token.strip())
    except InvalidToken:
        raise ApiError(
            401,
            "AUTHENTICATION_REQUIRED",
            "Invalid or expired credentials",
            headers=dict(UNAUTHENTICATED),
        ) from None


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


def admin_principal(request: Request) -> Principal:
    return require_role(request, "admin")


def worker_principal(request: Request) -> Principal:
    """Workers, and admins acting as one."""
    return require_role(request, "worker", "admin")
