"""Admin routes for webhooks: endpoints (create, list, show, delete), their messages, retry."""

from __future__ import annotations

from uuid import UUID

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from application.webhooks import Webhooks
from domain.errors import FieldProblem
from domain.webhook_messages import MESSAGE_STATUSES
from web.auth import admin_principal
from web.errors import ApiError
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


routes = [
    Route("/api/admin/webhooks", create_webhook, methods=["POST"]),
    Route("/api/admin/webhooks", list_webhooks, methods=["GET"]),
    Route("/api/admin/webhooks/{webhook_id}", show_webhook, methods=["GET"]),
    Route("/api/admin/webhooks/{webhook_id}", delete_webhook, methods=["DELETE"]),
    Route("/api/admin/webhooks/{webhook_id}/messages", list_messages, methods=["GET"]),
    Route(
        "/api/admin/webhooks/{webhook_id}/messages/{message_id}/retry",
        retry_message,
        methods=["POST"],
    ),
]
