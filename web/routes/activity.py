"""What operators watch over time: activity per minute, the top users, users near the limit."""

from __future__ import annotations

from datetime import timedelta

from starlette.requests import Request
from starlette.responses import Response

from web.auth import admin_principal
from web.openapi import examples
from web.openapi.answers import Activity, UserActivity, UserNearLimit
from web.openapi.operation import Answer, ApiRoute, Operation, Parameter
from web.openapi.parameters import limit
from web.openapi.refusals import ADMIN_ROUTE, READ_MODELS_MISSING
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


def bounded(name: str, default: int, most: int, unit: str) -> Parameter:
    return Parameter(
        name,
        "query",
        {"type": "integer", "minimum": 1, "maximum": most, "default": default},
        f"How many {unit} back from now, 1-{most} (default {default}).",
        example=default,
    )


GET_ACTIVITY = Operation(
    "GET",
    "getActivity",
    "Activity per minute",
    "One bucket per minute of the last `minutes`, oldest first: generations submitted, "
    "completed, failed, cancelled and expired in it, and the tokens captured. Minutes with "
    "nothing are there, with zeros.",
    tag="admin",
    roles=("admin",),
    parameters=(bounded("minutes", 60, MAX_MINUTES, "minutes"),),
    answers=(Answer(200, "The buckets.", Activity, example=examples.ACTIVITY),),
    refusals=(*ADMIN_ROUTE, READ_MODELS_MISSING),
)
GET_TOP_USERS = Operation(
    "GET",
    "listTopUsers",
    "The busiest users",
    "Users by generations accepted in the last `hours`, most first, with the tokens captured "
    "from them.",
    tag="admin",
    roles=("admin",),
    parameters=(bounded("hours", 24, MAX_HOURS, "hours"), limit(10, MAX_USERS)),
    answers=(Answer(200, "The users, busiest first.", UserActivity, "list", examples.TOP_USERS),),
    refusals=(*ADMIN_ROUTE, READ_MODELS_MISSING),
)
GET_USERS_NEAR_LIMIT = Operation(
    "GET",
    "listUsersNearLimit",
    "Users near their rate limit",
    "Up to `limit` users at 80% or more of their hourly rate limit now, fullest first; empty "
    "when rate limiting is off.",
    tag="admin",
    roles=("admin",),
    parameters=(limit(10, MAX_USERS),),
    answers=(Answer(200, "The users, fullest first.", UserNearLimit, "list", examples.NEAR_LIMIT),),
    refusals=(*ADMIN_ROUTE, READ_MODELS_MISSING),
)
routes = [
    ApiRoute("/api/admin/activity", get_activity, GET_ACTIVITY),
    ApiRoute("/api/admin/users/top", get_top_users, GET_TOP_USERS),
    ApiRoute("/api/admin/users/near-limit", get_users_near_limit, GET_USERS_NEAR_LIMIT),
]
