"""A generation's status as it changes: the event stream, and the state of `Prefer: wait`."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from application.live_status import LiveStatus, VersionedGeneration
from web.auth import user_principal
from web.errors import ApiError
from web.event_stream import EVENT_STREAM_HEADERS, EventStreamResponse, status_event
from web.openapi import examples
from web.openapi.operation import Answer, ApiRoute, Operation, Parameter, Refusal
from web.openapi.parameters import GENERATION_ID
from web.openapi.refusals import GENERATION_NOT_FOUND, USER_ROUTE
from web.presenters import generation_json
from web.requests import generation_id_from, in_thread


def live_status_of(request: Request) -> LiveStatus:
    live_status: LiveStatus | None = request.app.state.live_status
    if live_status is None:
        raise ApiError(503, "SERVICE_UNAVAILABLE", "Live status is not served by this process")
    return live_status


async def stream_generation(request: Request) -> Response:
    principal = await user_principal(request)
    generation_id = generation_id_from(request)
    live_status = live_status_of(request)
    current = await in_thread(live_status.read, principal.user_id, generation_id)
    if request.method == "HEAD":  # the head alone: no stream to hold open for nobody
        return Response(media_type="text/event-stream", headers=EVENT_STREAM_HEADERS)
    seen = await live_status.resume_point(
        generation_id, request.headers.get("last-event-id"), current
    )
    changes = live_status.status_changes(
        principal.user_id, generation_id, seen, request.app.state.stream_keepalive_seconds
    )
    return EventStreamResponse(changes, status_frame, EVENT_STREAM_HEADERS)


def status_frame(change: VersionedGeneration) -> bytes:
    return status_event(change.version, generation_json(change.record))


LAST_EVENT_ID = Parameter(
    "Last-Event-ID",
    "header",
    {"type": "string", "maxLength": 128},
    "On a reconnect: the `id` of the last event received; only what is newer is sent. One "
    "that is not a version of this generation is ignored, as on a first connect.",
    example="1",
)
STATUS_EVENT = {  # one event of the stream, as Server-Sent Events parsers hand it over
    "type": "object",
    "required": ["id", "event", "data"],
    "properties": {
        "id": {"type": "string", "pattern": "^[1-9][0-9]*$", "description": "Its version."},
        "event": {"const": "status"},
        "data": {
            "type": "string",
            "contentMediaType": "application/json",
            "contentSchema": {"$ref": "#/components/schemas/Generation"},
            "description": "What `GET /api/generations/{id}` answers as `data`, on one line.",
        },
    },
}
LIVE_STATUS_OFF = Refusal(
    503, "SERVICE_UNAVAILABLE", "this process was started without live status"
)
STREAM_GENERATION = Operation(
    "GET",
    "streamGeneration",
    "Follow a generation's status",
    "Server-Sent Events: first the generation as it is now (`event: status`, `id` its version, "
    "`data` what `GET /api/generations/{id}` answers, on one line), then one event per change "
    "of status; the stream ends after a terminal status. `: keep-alive` comes after 15 s of "
    "silence. Refusals come as JSON before any stream starts.",
    tag="generations",
    roles=("user",),
    parameters=(GENERATION_ID, LAST_EVENT_ID),
    answers=(
        Answer(
            200,
            "The stream of status events.",
            wrapping="text",
            media_type="text/event-stream",
            schema=STATUS_EVENT,
            example=examples.STATUS_EVENT,
            headers=("X-Accel-Buffering",),
        ),
    ),
    refusals=(*USER_ROUTE, GENERATION_NOT_FOUND, LIVE_STATUS_OFF),
)
routes = [ApiRoute("/api/generations/{generation_id}/stream", stream_generation, STREAM_GENERATION)]
