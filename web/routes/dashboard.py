"""GET /dashboard: the operators' page and its assets, served by the service under a strict CSP.

The page needs no credentials; everything it shows comes from the admin JSON routes, read with
the token the operator pastes in (docs/operations.md, "The dashboard").
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from functools import cache
from pathlib import Path

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

ASSETS = Path(__file__).resolve().parent.parent / "dashboard"
CONTENT_SECURITY_POLICY = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; "
    "connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
)
FILES = {  # path -> (file, media type)
    "/dashboard": ("index.html", "text/html; charset=utf-8"),
    "/dashboard/dashboard.js": ("dashboard.js", "text/javascript; charset=utf-8"),
    "/dashboard/dashboard.css": ("dashboard.css", "text/css; charset=utf-8"),
    "/dashboard/favicon.svg": ("favicon.svg", "image/svg+xml"),
}


@cache
def asset(name: str) -> bytes:
    return (ASSETS / name).read_bytes()


def serving(name: str, media_type: str) -> Callable[[Request], Awaitable[Response]]:
    async def get_asset(request: Request) -> Response:
        headers = {"Content-Security-Policy": CONTENT_SECURITY_POLICY, "Cache-Control": "no-cache"}
        return Response(asset(name), media_type=media_type, headers=headers)

    return get_asset


routes = [Route(path, serving(*served), methods=["GET"]) for path, served in FILES.items()]
