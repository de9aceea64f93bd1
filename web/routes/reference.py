"""The contract, served: GET /openapi.json, GET /docs (the reference page) and its stylesheet."""

from __future__ import annotations

import json
from importlib import resources
from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from web.openapi.document import openapi_document
from web.openapi.operation import Answer, ApiRoute, Operation
from web.openapi.page import reference_page

STYLESHEET = "/docs/reference.css"
PAGE_POLICY = (
    "default-src 'none'; style-src 'self'; img-src 'self'; base-uri 'none'; "
    "form-action 'none'; frame-ancestors 'none'"
)


def document_of(request: Request) -> dict[str, Any]:
    """Built once per app, from the routes it serves."""
    state = request.app.state
    if getattr(state, "openapi", None) is None:
        state.openapi = openapi_document(request.app.routes)
    document: dict[str, Any] = state.openapi
    return document


async def get_openapi(request: Request) -> Response:
    body = json.dumps(document_of(request), ensure_ascii=False, indent=1)
    return Response(body, media_type="application/json; charset=utf-8")


async def get_docs(request: Request) -> Response:
    state = request.app.state
    if getattr(state, "reference_page", None) is None:
        state.reference_page = reference_page(document_of(request), STYLESHEET)
    return Response(
        state.reference_page,
        media_type="text/html; charset=utf-8",
        headers={"Content-Security-Policy": PAGE_POLICY},
    )


async def get_stylesheet(request: Request) -> Response:
    css = resources.files("web.openapi").joinpath("reference.css").read_text("utf-8")
    return Response(
        css, media_type="text/css; charset=utf-8", headers={"Cache-Control": "max-age=3600"}
    )


OPENAPI = Operation(
    "GET",
    "getOpenApiDocument",
    "This document",
    "The OpenAPI 3.1 document of every route, built from the route table and the pydantic "
    "models the service itself uses. `atelier openapi` prints the same.",
    tag="service",
    answers=(
        Answer(
            200,
            "The OpenAPI document.",
            wrapping="text",
            schema={"type": "object", "required": ["openapi", "info", "paths"]},
            example={
                "openapi": "3.1.0",
                "info": {"title": "Atelier", "version": "0.1.0"},
                "paths": {},
            },
        ),
    ),
)
DOCS = Operation(
    "GET",
    "getReferencePage",
    "The API reference page",
    "This document as a readable page, rendered by the service, needing nothing from outside.",
    tag="service",
    answers=(
        Answer(
            200,
            "The page.",
            wrapping="text",
            media_type="text/html",
            example='<!DOCTYPE html><html lang="en">...</html>',
            headers=("Content-Security-Policy",),
            required_headers=("Content-Security-Policy",),
        ),
    ),
)
STYLESHEET_OPERATION = Operation(
    "GET",
    "getReferenceStylesheet",
    "The reference page's stylesheet",
    "The page's only asset.",
    tag="service",
    answers=(
        Answer(
            200, "The stylesheet.", wrapping="text", media_type="text/css", example=":root { ... }"
        ),
    ),
)
routes = [
    ApiRoute("/openapi.json", get_openapi, OPENAPI),
    ApiRoute("/docs", get_docs, DOCS),
    ApiRoute(STYLESHEET, get_stylesheet, STYLESHEET_OPERATION),
]
