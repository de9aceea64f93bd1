"""What operators watch over time: activity per minute, the top users, users near the limit."""

from __future__ import annotations

from datetime import timedelta

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from web.auth import admin_principal
from web.paging import bounded_integer, unknown_or_repeated_parameters
from web.presenters import activity_json, near_limit_json, user_activity_json
from web.requests import atelier_of, in_thread
from web.responses import success
from web.routes.queue import read_side_of
from web.schemas import invalid

MAX_MINUTES = 1440  # a day of minutes
MAX_HOURS = 168  # a week
MAX_USERS = 100


def parameters(request: Request, *bounds: tuple[str, int, int, int]) -> list[int]:
    """Each `(name, default, low, high)` parameter; 400 on any bad, unknown or repeated one."""
    problems = unknown_or_repeated_parameters(request, tuple(name for name, *_ in bounds))
    values = [bounded_integer(request, *bound, problems) for bound in bounds]
    if problems:
        raise invalid(problems)
    return values


async def get_activity(request: Request) -> Response:
    admin_principal(request)
    (minutes,) = parameters(request, ("minutes", 60, 1, MAX_MINUTES))
    activity = read_side_of(request).activity
    now = atelier_of(request).clock()
    buckets = await in_thread(activity.minutes, minutes, now)
    return success(activity_json(buckets))


async def get_top_users(request: Request) -> Response:
    admin_principal(request)
    hours, limit = parameters(request, ("hours", 24, 1, MAX_HOURS), ("limit", 10, 1, MAX_USERS))
    since = atelier_of(request).clock() - timedelta(hours=hours)
    generations = read_side_of(request).generations
    users = await in_thread(generations.top_users, since, limit)
    return success([user_activity_json(user) for user in users])


async def get_users_near_limit(request: Request) -> Response:
    admin_principal(request)
    (limit,) = parameters(request, ("limit", 10, 1, MAX_USERS))
    now = atelier_of(request).clock()
    users = await in_thread(read_side_of(request).near_limit, now, limit)
    return success([near_limit_json(user) for user in users])


routes = [
    Route("/api/admin/activity", get_activity, methods=["GET"]),
    Route("/api/admin/users/top", get_top_users, methods=["GET"]),
    Route("/api/admin/users/near-limit", get_users_near_limit, methods=["GET"]),
]
