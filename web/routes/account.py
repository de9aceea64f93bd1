"""GET /api/account: the caller's tokens and rate-limit window."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from web.auth import user_principal
from web.presenters import account_json
from web.requests import atelier_of, in_thread
from web.responses import success


async def get_account(request: Request) -> Response:
    principal = await user_principal(request)
    summary = await in_thread(atelier_of(request).get_account, principal.user_id)
    return success(account_json(summary))


routes = [Route("/api/account", get_account, methods=["GET"])]
