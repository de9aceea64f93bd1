"""The contract's JSON envelopes: `{"success": true, "data": ...}` and the error body."""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from starlette.responses import JSONResponse

from domain.errors import FieldProblem


def iso_timestamp(moment: datetime | None = None) -> str:
    """`2026-11-23T12:00:00.000Z`: UTC with milliseconds, as the contract shows."""
    moment = (moment or datetime.now(UTC)).astimezone(UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def iso_or_none(moment: datetime | None) -> str | None:
    return None if moment is None else iso_timestamp(moment)


class ApiJSONResponse(JSONResponse):
    media_type = "application/json; charset=utf-8"

    def render(self, content: Any) -> bytes:
        return json.dumps(content, ensure_ascii=False, separators=(",", ":")).encode()


def success(
    data: Any, status_code: int = 200, headers: Mapping[str, str] | None = None
) -> ApiJSONResponse:
    return ApiJSONResponse({"success": True, "data": data}, status_code, headers=headers)


def success_page(items: list[Any], next_cursor: str | None) -> ApiJSONResponse:
    return ApiJSONResponse({"success": True, "data": items, "nextCursor": next_cursor})


def error_response(
    status_code: int,
    code: str,
    message: str,
    request_id: str,
    details: str | None = None,
    problems: list[FieldProblem] | None = None,
    headers: Mapping[str, str] | None = None,
) -> ApiJSONResponse:
    body: dict[str, Any] = {"success": False, "error": message, "code": code}
    if details is not None:
        body["details"] = details
    if problems:
        body["validationErrors"] = [{"field": p.field, "message": p.message} for p in problems]
    body["timestamp"] = iso_timestamp()
    body["requestId"] = request_id
    return ApiJSONResponse(body, status_code, headers=headers)
