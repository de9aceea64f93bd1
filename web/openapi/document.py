"""Builds the OpenAPI 3.1 document from the route table: each ApiRoute's operations, their
pydantic models (as JSON Schema 2020-12, which OpenAPI 3.1 speaks) and their refusals."""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from importlib import metadata
from typing import Any

from pydantic import BaseModel
from pydantic.json_schema import JsonSchemaMode, models_json_schema
from starlette.routing import BaseRoute, Route

from web.openapi.answers import ErrorBody
from web.openapi.headers import HEADERS
from web.openapi.operation import Answer, ApiRoute, Operation, Parameter, Refusal
from web.openapi.parameters import REQUEST_ID
from web.openapi.refusals import AT_THE_PORT

SCHEMAS = "#/components/schemas/{model}"
CONVERTER = re.compile(r"\{(\w+):\w+\}")
ALWAYS_HEADERS = ("X-Request-ID",)
INTRODUCTION = """\
Atelier takes AI fashion-photo generation requests: a user submits Cloudinary-hosted product
(and optionally model) images with a style, aspect ratio and quality; Atelier checks who they
are, what they may spend and whether the queue has room, records the request, reserves its
tokens and hands it to workers.

Bodies are JSON (`application/json; charset=utf-8`). A success is `{"success": true, "data":
...}` (a page adds `nextCursor`); every other answer is the error body, whose `code` says what
happened. Authenticate with `Authorization: Bearer <JWT>` (HS256, signed with AUTH_SECRET; claims
`sub`, `exp`, `role`); each operation names the roles it accepts. `atelier token USER_ID [--role
admin|worker]` mints one for a local service. Every answer carries `X-Request-ID` and the
security headers; every `/api` answer carries `Cache-Control: no-store`. Paths are exact: any
other path, or a trailing slash, is 404 with the error body.
"""
SECURITY_SCHEME = {
    "type": "http",
    "scheme": "bearer",
    "bearerFormat": "JWT",
    "description": "HS256 JWT signed with AUTH_SECRET. Claims: `sub` (the user id), `exp` "
    "(required), `role` (`user` when absent, `admin` or `worker`). The scopes of each "
    "operation's requirement are the roles it accepts; user tokens also need an open account.",
}


def undocumented_routes(routes: Iterable[BaseRoute]) -> list[str]:
    """Every route /openapi.json would leave out: all of them must be ApiRoutes."""
    return [
        getattr(route, "path", repr(route)) for route in routes if not isinstance(route, ApiRoute)
    ]


def openapi_document(routes: Sequence[BaseRoute]) -> dict[str, Any]:
    documented = [route for route in routes if isinstance(route, ApiRoute)]
    references, components = _schemas(documented)
    paths: dict[str, dict[str, Any]] = {}
    tags: dict[str, None] = {}
    for route in documented:
        for operation in route.operations:
            paths.setdefault(_template(route), {})[operation.method.lower()] = _operation(
                operation, references
            )
            tags[operation.tag] = None
    return {
        "openapi": "3.1.0",
        "info": {"title": "Atelier", "version": _version(), "description": INTRODUCTION},
        "tags": [{"name": tag} for tag in tags],
        "paths": paths,
        "components": {
            "schemas": components,
            "securitySchemes": {"bearerAuth": SECURITY_SCHEME},
        },
    }


def _version() -> str:
    try:
        return metadata.version("atelier")
    except metadata.PackageNotFoundError:
        return "0"


def _template(route: Route) -> str:
    """The path with `{name}` parameters, converters (`{id:int}`) dropped."""
    return CONVERTER.sub(r"{\1}", route.path)


def _schemas(
    routes: Sequence[ApiRoute],
) -> tuple[dict[tuple[type[BaseModel], JsonSchemaMode], dict[str, Any]], dict[str, Any]]:
    """Each model once, bodies as they are read and answers as they are written."""
    wanted: dict[tuple[type[BaseModel], JsonSchemaMode], None] = {
        (ErrorBody, "serialization"): None
    }
    for route in routes:
        for operation in route.operations:
            if operation.body is not None:
                wanted[(operation.body, "validation")] = None
            for answer in operation.answers:
                if answer.model is not None:
                    wanted[(answer.model, "serialization")] = None
    references, top = models_json_schema(list(wanted), ref_template=SCHEMAS)
    return {key: value for key, value in references.items()}, top.get("$defs", {})  # type: ignore[misc]


def _operation(
    operation: Operation,
    references: dict[tuple[type[BaseModel], JsonSchemaMode], dict[str, Any]],
) -> dict[str, Any]:
    described: dict[str, Any] = {
        "operationId": operation.operation_id,
        "summary": operation.summary,
        "description": _description(operation),
        "tags": [operation.tag],
        "security": [{"bearerAuth": list(operation.roles)}] if operation.roles else [],
        "parameters": [_parameter(p) for p in (*operation.parameters, REQUEST_ID)],
    }
    if operation.body is not None:
        body: dict[str, Any] = {"schema": references[(operation.body, "validation")]}
        if operation.body_example is not None:
            body["example"] = operation.body_example
        described["requestBody"] = {
            "required": operation.body_required,
            "content": {"application/json": body},
        }
    responses: dict[str, Any] = {}
    for answer in operation.answers:
        responses[str(answer.status)] = _answer(answer, references)
    error_body = references[(ErrorBody, "serialization")]
    for status, refusals in _by_status((*operation.refusals, *AT_THE_PORT)).items():
        responses[str(status)] = _refusal(refusals, error_body)
    described["responses"] = dict(sorted(responses.items()))
    return described


def _description(operation: Operation) -> str:
    if operation.roles:
        who = "Roles: " + ", ".join(f"`{role}`" for role in operation.roles) + "."
    else:
        who = "No authentication."
    return f"{operation.description}\n\n{who}"


def _parameter(parameter: Parameter) -> dict[str, Any]:
    described: dict[str, Any] = {
        "name": parameter.name,
        "in": parameter.located,
        "required": parameter.required or parameter.located == "path",
        "description": parameter.description,
        "schema": parameter.schema,
    }
    if parameter.example is not None:
        described["example"] = parameter.example
    return described


def _headers(names: Iterable[str], required: Iterable[str]) -> dict[str, Any]:
    needed = set(required)
    return {name: {**HEADERS[name], "required": name in needed} for name in names}


def _answer(
    answer: Answer, references: dict[tuple[type[BaseModel], JsonSchemaMode], dict[str, Any]]
) -> dict[str, Any]:
    headers = _headers(
        (*ALWAYS_HEADERS, *answer.headers), (*ALWAYS_HEADERS, *answer.required_headers)
    )
    described: dict[str, Any] = {"description": answer.description, "headers": headers}
    if answer.links:
        described["links"] = {
            link.operation_id: {"operationId": link.operation_id, "parameters": link.parameters}
            for link in answer.links
        }
    if answer.wrapping == "none":
        return described
    if answer.wrapping == "text":
        media: dict[str, Any] = {"schema": answer.schema or {"type": "string"}}
    else:
        assert answer.model is not None, (
            f"answer {answer.status} of {answer.description} has no model"
        )
        media = {"schema": _wrapped(answer, references[(answer.model, "serialization")])}
    if answer.example is not None:
        media["example"] = _wrapped_example(answer)
    described["content"] = {answer.media_type: media}
    return described


def _wrapped(answer: Answer, model: dict[str, Any]) -> dict[str, Any]:
    if answer.wrapping == "bare":
        return model
    envelope: dict[str, Any] = {
        "type": "object",
        "required": ["success", "data"],
        "properties": {"success": {"const": True}, "data": model},
        "additionalProperties": False,
    }
    if answer.wrapping == "list":
        envelope["properties"]["data"] = {"type": "array", "items": model}
    if answer.wrapping == "page":
        envelope["required"].append("nextCursor")
        envelope["properties"]["data"] = {"type": "array", "items": model}
        envelope["properties"]["nextCursor"] = {
            "type": ["string", "null"],
            "description": "Pass as `cursor` for the next page; null on the last one.",
        }
    return envelope


def _wrapped_example(answer: Answer) -> Any:
    if answer.wrapping in ("data", "list"):
        return {"success": True, "data": answer.example}
    if answer.wrapping == "page":
        return {"success": True, "data": answer.example, "nextCursor": None}
    return answer.example


def _by_status(refusals: Iterable[Refusal]) -> dict[int, list[Refusal]]:
    grouped: dict[int, list[Refusal]] = {}
    for refusal in refusals:
        known = grouped.setdefault(refusal.status, [])
        if refusal not in known:
            known.append(refusal)
    return grouped


def _refusal(refusals: list[Refusal], error_body: dict[str, Any]) -> dict[str, Any]:
    codes = list(dict.fromkeys(refusal.code for refusal in refusals))
    every = set.intersection(*(set(refusal.headers) for refusal in refusals))
    named = dict.fromkeys(header for refusal in refusals for header in refusal.headers)
    example = {
        "success": False,
        "error": refusals[0].when[:1].upper() + refusals[0].when[1:],
        "code": codes[0],
        "timestamp": "2026-11-23T12:00:00.000Z",
        "requestId": "5f0c6d1e8a2b4c7d9e1f2a3b4c5d6e7f",
    }
    return {
        "description": "\n\n".join(f"`{r.code}`: {r.when}." for r in refusals),
        "headers": _headers((*ALWAYS_HEADERS, *named), (*ALWAYS_HEADERS, *every)),
        "content": {
            "application/json": {
                "schema": {"allOf": [error_body], "properties": {"code": {"enum": codes}}},
                "example": example,
            }
        },
    }
