"""The log lines of requests: JSON objects with the request's fields, a refusal's code, an
unexpected error's traceback with its request id; text lines with timestamps and request ids."""

from __future__ import annotations

import json
import logging
import re
import sys
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route
from starlette.testclient import TestClient

from infrastructure.logs.formatter import log_formatter
from infrastructure.logs.request_log import RequestLog
from infrastructure.telemetry import ServiceTelemetry
from tests.http.conftest import ClientFactory
from tests.support.builders import bearer
from tests.support.clients import open_account
from web.middleware import ApiMiddleware

ISO_TIMESTAMP = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d+Z")


@pytest.fixture
def log_to(capsys: pytest.CaptureFixture[str]) -> Iterator[Callable[[str], Callable[[], str]]]:
    """`read = log_to("json")`: every logger's records through the service's formatter to
    stderr, as `atelier serve` configures them; `read()` is what was written since."""
    handlers: list[logging.Handler] = []
    root = logging.getLogger()
    level = root.level
    earlier = root.handlers[:]  # e.g. what an in-process `atelier openapi` configured
    for handler in earlier:
        root.removeHandler(handler)

    def attach(log_format: str) -> Callable[[], str]:
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(log_formatter(log_format))
        root.addHandler(handler)
        root.setLevel(logging.INFO)
        handlers.append(handler)
        capsys.readouterr()
        return lambda: capsys.readouterr().err

    yield attach
    for handler in handlers:
        root.removeHandler(handler)
    for handler in earlier:
        root.addHandler(handler)
    root.setLevel(level)


def json_lines(text: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in text.splitlines()]


def test_each_request_logs_one_json_line_with_its_fields(
    make_client: ClientFactory, log_to: Any
) -> None:
    client = make_client(log_format="json")
    open_account(client, "alice", 0)
    read = log_to("json")
    ok = client.get("/api/account", headers=bearer("alice"))
    refused = client.post("/api/generate", json={}, headers={"X-Request-ID": "req-42"})
    lines = [line for line in json_lines(read()) if line["event"] == "request"]
    assert lines[0] | {"durationMs": 0, "timestamp": ""} == {
        "event": "request",
        "method": "GET",
        "route": "/api/account",
        "status": 200,
        "durationMs": 0,
        "requestId": ok.headers["x-request-id"],
        "userId": "alice",
        "level": "info",
        "logger": "atelier.access",
        "timestamp": "",
    }
    assert lines[0]["durationMs"] >= 0 and ISO_TIMESTAMP.fullmatch(lines[0]["timestamp"])
    assert refused.headers["x-request-id"] == "req-42"
    assert {key: lines[1][key] for key in ("route", "status", "code", "requestId", "userId")} == {
        "route": "/api/generate",
        "status": 401,
        "code": "AUTHENTICATION_REQUIRED",
        "requestId": "req-42",
        "userId": None,
    }
    assert len(lines) == 2


def failing_app(log_format: str) -> Starlette:
    """A route with a bug, behind the service's middleware and telemetry."""

    async def broken(request: Request) -> Response:
        raise ZeroDivisionError("the bug")

    return Starlette(
        routes=[Route("/broken", broken)],
        middleware=[
            Middleware(ApiMiddleware, telemetry=ServiceTelemetry(None, RequestLog(log_format)))
        ],
    )


def test_an_unexpected_error_logs_its_traceback_with_the_request_id(log_to: Any) -> None:
    read = log_to("json")
    with TestClient(failing_app("json"), raise_server_exceptions=False) as client:
        answer = client.get("/broken", headers={"X-Request-ID": "req-bug"})
    assert (answer.status_code, answer.json()["code"]) == (500, "SERVER_ERROR")
    assert "the bug" not in answer.text
    lines = json_lines(read())
    error = next(line for line in lines if line["level"] == "error")
    assert error["requestId"] == "req-bug"
    assert "Traceback" in error["exception"] and "ZeroDivisionError: the bug" in error["exception"]
    request = next(line for line in lines if line["event"] == "request")
    assert (request["status"], request["code"], request["requestId"]) == (
        500,
        "SERVER_ERROR",
        "req-bug",
    )


def test_text_lines_carry_a_timestamp_and_the_request_id(
    make_client: ClientFactory, log_to: Any
) -> None:
    client = make_client()
    read = log_to("text")
    client.get("/api/generate", headers={"X-Request-ID": "req-text"})
    with TestClient(failing_app("text"), raise_server_exceptions=False) as broken:
        broken.get("/broken", headers={"X-Request-ID": "req-text-bug"})
    text = read()
    request_line = next(line for line in text.splitlines() if "requestId=req-text " in line + " ")
    assert ISO_TIMESTAMP.match(request_line)
    assert "route=/api/generate" in request_line and "status=200" in request_line
    error_line = next(line for line in text.splitlines() if "unexpected error" in line)
    assert ISO_TIMESTAMP.match(error_line) and "requestId=req-text-bug" in error_line
    assert "ZeroDivisionError: the bug" in text
