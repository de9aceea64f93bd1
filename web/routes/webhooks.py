"""Admin routes for webhooks: endpoints (create, list, show, delete), their messages, retry."""

from __future__ import annotations

from uuid import UUID

from starlette.requests import Request
from starlette.responses import Response

from application.webhooks import Webhooks
from domain.errors import FieldProblem
from domain.webhook_messages import MESSAGE_STATUSES
from web.auth import admin_principal
from web.errors import ApiError
from web.openapi import examples
from web.openapi.answers import RetriedMessage, WebhookEndpoint, WebhookMessage
from web.openapi.operation import Answer, ApiRoute, Link, Operation, Parameter, Refusal
from web.openapi.parameters import CURSOR, IDEMPOTENCY_KEY, limit
from web.openapi.refusals import ADMIN_ROUTE, JSON_BODY, READ_MODELS_MISSING
from web.paging import Cursors, paging_from
from web.requests import body_as, in_thread
from web.responses import iso_or_none, success, success_page
from web.routes.queue import read_side_of
from web.schemas import EmptyBody, idempotency_key_from, invalid
from web.webhook_presenters import endpoint_json, message_json
from web.webhook_schemas import WebhookBody

DEFAULT_LIMIT = 20
MAX_LIMIT = 100
ENDPOINT_CURSORS = Cursors("w1:")
MESSAGE_CURSORS = Cursors("m1:")


def webhooks_of(request: Request) -> Webhooks:
    read_side_of(request)  # 503 on a store the views cannot follow
    webhooks: Webhooks = request.app.state.webhooks
    return webhooks


def uuid_param(request: Request, name: str, what: str) -> UUID:
    """A malformed id is as unknown as a missing one (404)."""
    try:
        return UUID(request.path_params[name])
    except ValueError:
        raise ApiError(404, "NOT_FOUND", f"{what} not found") from None


async def create_webhook(request: Request) -> Response:
    principal = admin_principal(request)
    webhooks = webhooks_of(request)
    body = await body_as(request, WebhookBody)
    key = idempotency_key_from(request)
    idempotency = None if key is None else (principal.user_id, key)
    record, replayed = await in_thread(
        webhooks.create_endpoint,
        body.url,
        None if body.events is None else [str(event) for event in body.events],
        body.description,
        idempotency,
    )
    headers = {"Location": f"/api/admin/webhooks/{record.endpoint_id}"}
    if replayed:
        headers["Idempotent-Replayed"] = "true"
    return success(endpoint_json(record), 201, headers)


async def list_webhooks(request: Request) -> Response:
    admin_principal(request)
    webhooks_of(request)
    problems: list[FieldProblem] = []
    paging = paging_from(
        request, ENDPOINT_CURSORS, ("limit", "cursor"), DEFAULT_LIMIT, MAX_LIMIT, problems
    )
    if problems:
        raise invalid(problems)
    page = await in_thread(read_side_of(request).webhooks.endpoints, paging.limit, paging.position)
    items = [endpoint_json(record) for record in page.items]
    return success_page(items, ENDPOINT_CURSORS.encode(page.next_before))


async def show_webhook(request: Request) -> Response:
    admin_principal(request)
    webhooks = webhooks_of(request)
    endpoint_id = uuid_param(request, "webhook_id", "Webhook endpoint")
    record = await in_thread(webhooks.endpoint, endpoint_id)
    return success(endpoint_json(record))


async def delete_webhook(request: Request) -> Response:
    admin_principal(request)
    webhooks = webhooks_of(request)
    endpoint_id = uuid_param(request, "webhook_id", "Webhook endpoint")
    await in_thread(webhooks.delete_endpoint, endpoint_id)
    return Response(status_code=204)


async def list_messages(request: Request) -> Response:
    admin_principal(request)
    webhooks = webhooks_of(request)
    endpoint_id = uuid_param(request, "webhook_id", "Webhook endpoint")
    problems: list[FieldProblem] = []
    paging = paging_from(
        request,
        MESSAGE_CURSORS,
        ("status", "limit", "cursor"),
        DEFAULT_LIMIT,
        MAX_LIMIT,
        problems,
    )
    status = request.query_params.get("status") or None
    if status is not None and status not in MESSAGE_STATUSES:
        choices = ", ".join(MESSAGE_STATUSES)
        problems.append(FieldProblem("status", f"status must be one of {choices}"))
    if problems:
        raise invalid(problems)
    await in_thread(webhooks.load_endpoint, endpoint_id, True)  # 404 if unknown
    page = await in_thread(
        read_side_of(request).webhooks.messages, endpoint_id, status, paging.limit, paging.position
    )
    items = [message_json(record) for record in page.items]
    return success_page(items, MESSAGE_CURSORS.encode(page.next_before))


async def retry_message(request: Request) -> Response:
    admin_principal(request)
    webhooks = webhooks_of(request)
    endpoint_id = uuid_param(request, "webhook_id", "Webhook endpoint")
    message_id = uuid_param(request, "message_id", "Message")
    await body_as(request, EmptyBody)
    message = await in_thread(webhooks.retry_message, endpoint_id, message_id)
    shown = {
        "id": str(message.id),
        "status": message.status,
        "nextAttemptAt": iso_or_none(message.next_attempt_at),
    }
    return success(shown, 202)


WEBHOOK_ID = Parameter(
    "webhook_id",
    "path",
    {"type": "string", "format": "uuid"},
    "The endpoint's `id`. A malformed or unknown id, or a deleted endpoint's, is 404.",
    example=examples.WEBHOOK_ID,
    required=True,
)
MESSAGE_ID = Parameter(
    "message_id",
    "path",
    {"type": "string", "format": "uuid"},
    "The message's `id`. A malformed or unknown id, or another endpoint's, is 404.",
    example=examples.MESSAGE_ID,
    required=True,
)
MESSAGE_STATUS = Parameter(
    "status",
    "query",
    {"type": "string", "enum": list(MESSAGE_STATUSES)},
    "Only messages in this status.",
    example="failed",
)
WEBHOOK_NOT_FOUND = Refusal(404, "NOT_FOUND", "no such endpoint, a malformed id, or a deleted one")
MESSAGE_NOT_FOUND = Refusal(404, "NOT_FOUND", "no such message of this endpoint, or a malformed id")
WEBHOOKS_ROUTE = (*ADMIN_ROUTE, READ_MODELS_MISSING)

CREATE_WEBHOOK = Operation(
    "POST",
    "createWebhook",
    "Register a webhook endpoint",
    "Signed POSTs (Standard Webhooks) go to `url` for each of `events` (all six when left "
    "out). The URL is `https` with a host whose every address is public (`http` and private "
    "addresses too with WEBHOOK_ALLOW_PRIVATE=true). `secret` is shown in this answer only.",
    tag="webhooks",
    roles=("admin",),
    parameters=(IDEMPOTENCY_KEY,),
    body=WebhookBody,
    body_example=examples.WEBHOOK_BODY,
    answers=(
        Answer(
            201,
            "Registered. `Location` is its path.",
            WebhookEndpoint,
            example=examples.CREATED_WEBHOOK,
            headers=("Location", "Idempotent-Replayed"),
            required_headers=("Location",),
            links=tuple(
                Link(operation_id, {"webhook_id": "$response.body#/data/id"})
                for operation_id in ("getWebhook", "listWebhookMessages", "deleteWebhook")
            ),
        ),
    ),
    refusals=(
        *WEBHOOKS_ROUTE,
        *JSON_BODY,
        Refusal(400, "VALIDATION_ERROR", "the URL is not one that may be called (`url`)"),
        Refusal(422, "IDEMPOTENCY_KEY_REUSED", "the Idempotency-Key came before with another body"),
    ),
)
LIST_WEBHOOKS = Operation(
    "GET",
    "listWebhooks",
    "List webhook endpoints",
    "Endpoints not deleted, newest first, a page at a time (without their secrets).",
    tag="webhooks",
    roles=("admin",),
    parameters=(limit(DEFAULT_LIMIT, MAX_LIMIT), CURSOR),
    answers=(Answer(200, "A page of endpoints.", WebhookEndpoint, "page", [examples.WEBHOOK]),),
    refusals=WEBHOOKS_ROUTE,
)
GET_WEBHOOK = Operation(
    "GET",
    "getWebhook",
    "Read a webhook endpoint",
    "The endpoint, without its secret.",
    tag="webhooks",
    roles=("admin",),
    parameters=(WEBHOOK_ID,),
    answers=(Answer(200, "The endpoint.", WebhookEndpoint, example=examples.WEBHOOK),),
    refusals=(*WEBHOOKS_ROUTE, WEBHOOK_NOT_FOUND),
)
DELETE_WEBHOOK = Operation(
    "DELETE",
    "deleteWebhook",
    "Delete a webhook endpoint",
    "Nothing more is sent to it; its messages stay readable.",
    tag="webhooks",
    roles=("admin",),
    parameters=(WEBHOOK_ID,),
    answers=(Answer(204, "Deleted.", wrapping="none"),),
    refusals=(*WEBHOOKS_ROUTE, WEBHOOK_NOT_FOUND),
)
LIST_MESSAGES = Operation(
    "GET",
    "listWebhookMessages",
    "List an endpoint's messages",
    "Its messages, newest first, each with its delivery attempts.",
    tag="webhooks",
    roles=("admin",),
    parameters=(WEBHOOK_ID, MESSAGE_STATUS, limit(DEFAULT_LIMIT, MAX_LIMIT), CURSOR),
    answers=(
        Answer(200, "A page of messages.", WebhookMessage, "page", [examples.WEBHOOK_MESSAGE]),
    ),
    refusals=(*WEBHOOKS_ROUTE, WEBHOOK_NOT_FOUND),
)
RETRY_MESSAGE = Operation(
    "POST",
    "retryWebhookMessage",
    "Send a message again",
    "The message is pending again and sent now, whatever its status was. No body, or `{}`.",
    tag="webhooks",
    roles=("admin",),
    parameters=(WEBHOOK_ID, MESSAGE_ID),
    body=EmptyBody,
    body_required=False,
    body_example={},
    answers=(Answer(202, "Pending again.", RetriedMessage, example=examples.RETRIED_MESSAGE),),
    refusals=(
        *WEBHOOKS_ROUTE,
        *JSON_BODY,
        WEBHOOK_NOT_FOUND,
        MESSAGE_NOT_FOUND,
        Refusal(409, "INVALID_STATE", "the endpoint was deleted"),
    ),
)


async def webhooks(request: Request) -> Response:
    """One route per path, so the document lists each path's methods together."""
    if request.method == "POST":
        return await create_webhook(request)
    return await list_webhooks(request)


async def webhook(request: Request) -> Response:
    if request.method == "DELETE":
        return await delete_webhook(request)
    return await show_webhook(request)


routes = [
    ApiRoute("/api/admin/webhooks", webhooks, CREATE_WEBHOOK, LIST_WEBHOOKS),
    ApiRoute("/api/admin/webhooks/{webhook_id}", webhook, GET_WEBHOOK, DELETE_WEBHOOK),
    ApiRoute("/api/admin/webhooks/{webhook_id}/messages", list_messages, LIST_MESSAGES),
    ApiRoute(
        "/api/admin/webhooks/{webhook_id}/messages/{message_id}/retry",
        retry_message,
        RETRY_MESSAGE,
    ),
]
