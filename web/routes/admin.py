"""Admin routes for accounts: open, show (now or at a version), grant, disable, enable."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import TypeVar

from starlette.requests import Request
from starlette.responses import Response

from application.errors import AccountNotFound
from domain.errors import FieldProblem
from web.auth import admin_principal
from web.errors import ApiError
from web.openapi import examples
from web.openapi.answers import AdminAccount
from web.openapi.operation import Answer, ApiRoute, Link, Operation, Parameter, Refusal
from web.openapi.parameters import IDEMPOTENCY_KEY, USER_ID
from web.openapi.refusals import ACCOUNT_NOT_FOUND, ADMIN_ROUTE, JSON_BODY
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


ACCOUNT_LINKS = tuple(
    Link(operation_id, {"user_id": "$response.body#/data/userId"})
    for operation_id in (
        "getAdminAccount",
        "getAccountEvents",
        "grantTokens",
        "disableAccount",
        "enableAccount",
    )
)


def account_answer(status: int, description: str, example: object) -> Answer:
    return Answer(
        status,
        description,
        AdminAccount,
        example=example,
        headers=("Location",) if status == 201 else (),
        required_headers=("Location",) if status == 201 else (),
        links=ACCOUNT_LINKS if status == 201 else (),
    )


OPEN_ACCOUNT = Operation(
    "POST",
    "openAccount",
    "Open an account",
    "Opens the account of `userId` (the `sub` of that user's tokens) with an opening grant of "
    "`tokens` (default 0).",
    tag="admin",
    roles=("admin",),
    body=OpenAccountBody,
    body_example={"userId": "alice", "tokens": 5},
    answers=(account_answer(201, "The new account.", examples.ADMIN_ACCOUNT),),
    refusals=(
        *ADMIN_ROUTE,
        *JSON_BODY,
        Refusal(409, "ACCOUNT_EXISTS", "an account is already open for this user id"),
    ),
)
SHOW_ACCOUNT = Operation(
    "GET",
    "getAdminAccount",
    "Show an account, now or as it was",
    "Any user's account, with its version; `?version=N` shows it as it was at version N.",
    tag="admin",
    roles=("admin",),
    parameters=(
        USER_ID,
        Parameter(
            "version",
            "query",
            {"type": "integer", "minimum": 1, "maximum": 10**18 - 1},
            "Optional: the account as it was at this version (404 if it has not reached it).",
            example=1,
        ),
    ),
    answers=(account_answer(200, "The account.", examples.ADMIN_ACCOUNT),),
    refusals=(*ADMIN_ROUTE, ACCOUNT_NOT_FOUND),
)
GRANT_TOKENS = Operation(
    "POST",
    "grantTokens",
    "Grant tokens",
    "Adds `amount` tokens to the account's balance, recording `reason`. Honours "
    "`Idempotency-Key` as submissions do, scoped to the target account.",
    tag="admin",
    roles=("admin",),
    parameters=(USER_ID, IDEMPOTENCY_KEY),
    body=GrantBody,
    body_example={"amount": 3, "reason": "welcome bonus"},
    answers=(
        Answer(
            201,
            "The account after the grant (or the first answer again, for a replayed key).",
            AdminAccount,
            example=examples.GRANTED,
            headers=("Location", "Idempotent-Replayed"),
            required_headers=("Location",),
        ),
    ),
    refusals=(
        *ADMIN_ROUTE,
        *JSON_BODY,
        ACCOUNT_NOT_FOUND,
        Refusal(422, "IDEMPOTENCY_KEY_REUSED", "the Idempotency-Key came with another grant"),
    ),
)
DISABLE_ACCOUNT = Operation(
    "POST",
    "disableAccount",
    "Disable an account",
    "Its user routes answer 403 ACCOUNT_DISABLED until it is enabled; its generations go on. "
    "Disabling a disabled account changes nothing.",
    tag="admin",
    roles=("admin",),
    parameters=(USER_ID,),
    body=DisableBody,
    body_example={"reason": "chargeback"},
    answers=(account_answer(200, "The account, disabled.", examples.DISABLED),),
    refusals=(*ADMIN_ROUTE, *JSON_BODY, ACCOUNT_NOT_FOUND),
)
ENABLE_ACCOUNT = Operation(
    "POST",
    "enableAccount",
    "Enable an account",
    "Lets a disabled account use the service again; enabling an active one changes nothing. "
    "No body, or `{}`.",
    tag="admin",
    roles=("admin",),
    parameters=(USER_ID,),
    body=EmptyBody,
    body_required=False,
    answers=(account_answer(200, "The account, enabled.", examples.ADMIN_ACCOUNT),),
    refusals=(*ADMIN_ROUTE, *JSON_BODY, ACCOUNT_NOT_FOUND),
)
routes = [
    ApiRoute("/api/admin/accounts", open_account, OPEN_ACCOUNT),
    ApiRoute("/api/admin/accounts/{user_id}", show_account, SHOW_ACCOUNT),
    ApiRoute("/api/admin/accounts/{user_id}/grants", grant_tokens, GRANT_TOKENS),
    ApiRoute("/api/admin/accounts/{user_id}/disable", disable_account, DISABLE_ACCOUNT),
    ApiRoute("/api/admin/accounts/{user_id}/enable", enable_account, ENABLE_ACCOUNT),
]
