"""Admin routes for accounts: open, show (now or at a version), grant, disable, enable."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import TypeVar

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from application.errors import AccountNotFound
from domain.errors import FieldProblem
from web.auth import admin_principal
from web.errors import ApiError
from web.paging import unknown_or_repeated_parameters
from web.presenters import admin_account_json
from web.requests import atelier_of, body_as, in_thread
from web.responses import success
from web.schemas import (
    DisableBody,
    EmptyBody,
    GrantBody,
    OpenAccountBody,
    idempotency_key_from,
    invalid,
)

T = TypeVar("T")
VERSION = re.compile(r"^[0-9]{1,18}$")  # ASCII digits that fit the store's 64-bit versions


async def on_existing_account(call: Callable[..., T], *args: object) -> T:
    """Run a use case on a named account; for an admin, a missing account is 404, not 401."""
    try:
        return await in_thread(call, *args)
    except AccountNotFound:
        raise ApiError(404, "NOT_FOUND", "Account not found") from None


def account_location(user_id: str) -> dict[str, str]:
    return {"Location": f"/api/admin/accounts/{user_id}"}


async def open_account(request: Request) -> Response:
    admin_principal(request)
    body = await body_as(request, OpenAccountBody)
    summary = await in_thread(atelier_of(request).open_account, body.user_id, body.tokens)
    return success(admin_account_json(summary), 201, account_location(body.user_id))


async def show_account(request: Request) -> Response:
    admin_principal(request)
    user_id = request.path_params["user_id"]
    version = _version_param(request)
    summary = await on_existing_account(atelier_of(request).get_account, user_id, version)
    return success(admin_account_json(summary))


async def grant_tokens(request: Request) -> Response:
    admin_principal(request)
    user_id = request.path_params["user_id"]
    body = await body_as(request, GrantBody)
    key = idempotency_key_from(request)
    summary, replayed = await on_existing_account(
        atelier_of(request).grant_tokens, user_id, body.amount, body.reason, key
    )
    headers = account_location(user_id)
    if replayed:
        headers["Idempotent-Replayed"] = "true"
    return success(admin_account_json(summary), 201, headers)


async def disable_account(request: Request) -> Response:
    admin_principal(request)
    body = await body_as(request, DisableBody)
    summary = await on_existing_account(
        atelier_of(request).disable_account, request.path_params["user_id"], body.reason
    )
    return success(admin_account_json(summary))


async def enable_account(request: Request) -> Response:
    admin_principal(request)
    await body_as(request, EmptyBody)
    summary = await on_existing_account(
        atelier_of(request).enable_account, request.path_params["user_id"]
    )
    return success(admin_account_json(summary))


def _version_param(request: Request) -> int | None:
    """The optional `version`; unknown or repeated parameters are refused, as on the lists."""
    problems = unknown_or_repeated_parameters(request, ("version",))
    raw = request.query_params.get("version")
    if raw is not None and (not VERSION.match(raw) or int(raw) < 1):
        problems.append(FieldProblem("version", "version must be a positive integer"))
    if problems:
        raise invalid(problems)
    return None if raw is None else int(raw)


routes = [
    Route("/api/admin/accounts", open_account, methods=["POST"]),
    Route("/api/admin/accounts/{user_id}", show_account, methods=["GET"]),
    Route("/api/admin/accounts/{user_id}/grants", grant_tokens, methods=["POST"]),
    Route("/api/admin/accounts/{user_id}/disable", disable_account, methods=["POST"]),
    Route("/api/admin/accounts/{user_id}/enable", enable_account, methods=["POST"]),
]
