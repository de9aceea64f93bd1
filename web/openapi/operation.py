"""What one route documents: an Operation (its roles, parameters, body, answers and refusals)
and ApiRoute, the Starlette Route that carries its operations, so the two cannot part."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

from pydantic import BaseModel
from starlette.routing import Route

Role = Literal["user", "admin", "worker"]
Wrapping = Literal["data", "list", "page", "bare", "none", "text"]


@dataclass(frozen=True)
class Parameter:
    """A query, path or header parameter; `schema` is JSON Schema, limits included."""

    name: str
    located: Literal["query", "path", "header"]
    schema: dict[str, Any]
    description: str
    example: Any = None
    required: bool = False


@dataclass(frozen=True)
class Link:
    """What a client may call next with a value from this answer: an OpenAPI link, e.g.
    `Link("getGeneration", {"generation_id": "$response.body#/data/_id"})`."""

    operation_id: str
    parameters: dict[str, str]


@dataclass(frozen=True)
class Answer:
    """A success: its status, its body (`data` in the envelope, a `list` of them in `data`, a
    `page` of them, the model `bare`, no body, or `text` of `media_type`) and its headers
    (names in headers.py)."""

    status: int
    description: str
    model: type[BaseModel] | None = None
    wrapping: Wrapping = "data"
    example: Any = None
    headers: tuple[str, ...] = ()
    required_headers: tuple[str, ...] = ()
    media_type: str = "application/json"
    schema: dict[str, Any] | None = None  # for `text`: JSON Schema of the body (else a string)
    links: tuple[Link, ...] = ()


@dataclass(frozen=True)
class Refusal:
    """One way an operation says no: status, code, when, and the headers that come with it."""

    status: int
    code: str
    when: str
    headers: tuple[str, ...] = ()


@dataclass(frozen=True)
class Operation:
    """One method on one path, as /openapi.json and /docs describe it. `roles` empty means no
    bearer token is needed; `example` is a worked request (its body, parameters by name)."""

    method: Literal["GET", "POST", "PUT", "PATCH", "DELETE"]
    operation_id: str
    summary: str
    description: str
    tag: str
    answers: tuple[Answer, ...]
    refusals: tuple[Refusal, ...] = ()
    roles: tuple[Role, ...] = ()
    parameters: tuple[Parameter, ...] = ()
    body: type[BaseModel] | None = None
    body_required: bool = True
    body_example: dict[str, Any] | None = None


class ApiRoute(Route):
    """A Route whose methods are those of its documented operations."""

    def __init__(self, path: str, endpoint: Callable[..., Any], *operations: Operation) -> None:
        super().__init__(path, endpoint, methods=[op.method for op in operations])
        self.operations = operations
