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

from web.openapi.operation import Answer, ApiRoute, Operation

ASSETS = Path(__file__).resolve().parent.parent / "dashboard"
CONTENT_SECURITY_POLICY = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; "
    "connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
)
FILES = {  # path -> (file, media type, operationId, summary)
    "/dashboard": ("index.html", "text/html; charset=utf-8", "getDashboard", "The dashboard"),
    "/dashboard/dashboard.js": (
        "dashboard.js",
        "text/javascript; charset=utf-8",
        "getDashboardScript",
        "The dashboard's script",
    ),
    "/dashboard/dashboard.css": (
        "dashboard.css",
        "text/css; charset=utf-8",
        "getDashboardStylesheet",
        "The dashboard's stylesheet",
    ),
    "/dashboard/favicon.svg": (
        "favicon.svg",
        "image/svg+xml",
        "getDashboardIcon",
        "The dashboard's icon",
    ),
}


@cache
def asset(name: str) -> bytes:
    return (ASSETS / name).read_bytes()


def serving(name: str, media_type: str) -> Callable[[Request], Awaitable[Response]]:
    async def get_asset(request: Request) -> Response:
        headers = {"Content-Security-Policy": CONTENT_SECURITY_POLICY, "Cache-Control": "no-cache"}
        return Response(asset(name), media_type=media_type, headers=headers)

    return get_asset


def asset_operation(name: str, media_type: str, operation_id: str, summary: str) -> Operation:
    return Operation(
        "GET",
        operation_id,
        summary,
        "The operators' page (or one of its assets), under a Content-Security-Policy that "
        "loads nothing but the service's own files. It needs no token: what it shows comes "
        "from the admin routes, read with the admin token pasted into it.",
        tag="dashboard",
        answers=(
            Answer(
                200,
                f"`{name}`.",
                wrapping="text",
                media_type=media_type,
                example=asset(name).decode().splitlines()[0],  # its first line
                headers=("Content-Security-Policy", "Cache-Control"),
                required_headers=("Content-Security-Policy", "Cache-Control"),
            ),
        ),
    )


routes = [
    ApiRoute(path, serving(name, media_type), asset_operation(name, media_type, *about))
    for path, (name, media_type, *about) in FILES.items()
]
