"""GET /api/account: the caller's tokens and rate-limit window."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from web.auth import user_principal
from web.openapi import examples
from web.openapi.answers import Account
from web.openapi.operation import Answer, ApiRoute, Operation
from web.openapi.refusals import USER_ROUTE
from web.presenters import account_json
from web.requests import atelier_of, in_thread
from web.responses import success


async def get_account(request: Request) -> Response:
    principal = await user_principal(request)
    summary = await in_thread(atelier_of(request).get_account, principal.user_id)
    return success(account_json(summary))


GET_ACCOUNT = Operation(
    "GET",
    "getAccount",
    "Your tokens and rate-limit window",
    "`available` is `balance - reserved`: what the next submission may spend. `rateLimit` "
    "counts accepted submissions in the rolling hour.",
    tag="account",
    roles=("user",),
    answers=(Answer(200, "The caller's account.", Account, example=examples.ACCOUNT),),
    refusals=USER_ROUTE,
)
routes = [ApiRoute("/api/account", get_account, GET_ACCOUNT)]
