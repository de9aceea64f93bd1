"""A client driven by /openapi.json: operations called by operationId, every request body and
every answer (status, headers, body) checked against what the document says."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import httpx
from jsonschema import Draft202012Validator, FormatChecker


def schema_validator(document: dict[str, Any], schema: dict[str, Any]) -> Draft202012Validator:
    """`schema` (a part of `document`) with its `#/components/...` references resolvable."""
    return Draft202012Validator(
        {**schema, "components": document["components"]}, format_checker=FormatChecker()
    )


def server_sent_events(text: str) -> list[dict[str, str]]:
    """Each event's fields (`id`, `event`, `data`); comments such as `: keep-alive` dropped."""
    events = []
    for block in text.split("\n\n"):
        fields: dict[str, str] = {}
        for line in block.splitlines():
            if line and not line.startswith(":"):
                name, _, value = line.partition(":")
                fields[name] = value.removeprefix(" ")
        if fields:
            events.append(fields)
    return events


def problems(document: dict[str, Any], schema: dict[str, Any], value: Any) -> list[str]:
    return [
        f"{'.'.join(map(str, e.absolute_path))}: {e.message}"
        for e in schema_validator(document, schema).iter_errors(value)
    ]


@dataclass(frozen=True)
class Found:
    path: str
    method: str
    operation: dict[str, Any]


@dataclass(frozen=True)
class Answer:
    status: int
    headers: httpx.Headers
    body: Any

    @property
    def data(self) -> Any:
        return self.body["data"]


class UndocumentedAnswer(AssertionError):
    pass


class DocumentClient:
    """`http` is any httpx client with its base URL (Starlette's TestClient included)."""

    def __init__(self, document: dict[str, Any], http: httpx.Client, token: str | None = None):
        self.document = document
        self.http = http
        self.token = token
        self.called: set[str] = set()
        self.by_id = {
            operation["operationId"]: Found(path, method, operation)
            for path, methods in document["paths"].items()
            for method, operation in methods.items()
        }

    def with_token(self, token: str) -> DocumentClient:
        twin = DocumentClient(self.document, self.http, token)
        twin.called = self.called
        return twin

    def call(
        self,
        operation_id: str,
        body: Any = None,
        headers: dict[str, str] | None = None,
        **parameters: Any,
    ) -> Answer:
        found = self.by_id[operation_id]
        self.called.add(operation_id)
        operation = found.operation
        path = found.path
        query: dict[str, Any] = {}
        sent = dict(headers or {})
        for parameter in operation["parameters"]:
            name = parameter["name"]
            if name not in parameters:
                assert not parameter["required"], f"{operation_id} needs {name}"
                continue
            value = parameters.pop(name)
            if parameter["in"] == "path":
                path = path.replace("{" + name + "}", str(value))
            elif parameter["in"] == "query":
                query[name] = value
            else:
                sent[name] = str(value)
        assert not parameters, f"{operation_id} documents no parameter {sorted(parameters)}"
        if operation["security"] and self.token:
            sent["Authorization"] = f"Bearer {self.token}"
        if body is not None:
            schema = operation["requestBody"]["content"]["application/json"]["schema"]
            assert not problems(self.document, schema, body), problems(self.document, schema, body)
        response = self.http.request(
            found.method.upper(), path, params=query, json=body, headers=sent
        )
        return self._checked(operation, response)

    def follow(self, location: str) -> Answer:
        """GET a path an answer named (a Location), through the operation documenting it."""
        wanted = location.split("/")
        for found in self.by_id.values():
            template = found.path.split("/")
            if found.method != "get" or len(template) != len(wanted):
                continue
            names = {}
            for part, value in zip(template, wanted, strict=True):
                if part.startswith("{"):
                    names[part.strip("{}")] = value
                elif part != value:
                    break
            else:
                return self.call(found.operation["operationId"], **names)
        raise AssertionError(f"no GET operation documents {location}")

    def _checked(self, operation: dict[str, Any], response: httpx.Response) -> Answer:
        status = str(response.status_code)
        documented = operation["responses"].get(status)
        if documented is None:
            raise UndocumentedAnswer(
                f"{operation['operationId']} answered {status}: {response.text}"
            )
        for name, header in documented.get("headers", {}).items():
            if header.get("required"):
                assert name in response.headers, f"{operation['operationId']} {status} lacks {name}"
        content = documented.get("content")
        if not content:
            assert not response.content
            return Answer(response.status_code, response.headers, None)
        media_type = response.headers["content-type"].split(";")[0]
        documented_types = {key.split(";")[0].strip(): key for key in content}
        assert media_type in documented_types, f"{operation['operationId']} answered {media_type}"
        body: Any = response.json() if media_type == "application/json" else response.text
        schema = content[documented_types[media_type]]["schema"]
        if media_type == "text/event-stream":  # the schema is each event's
            body = server_sent_events(response.text)
            found = [
                problem for event in body for problem in problems(self.document, schema, event)
            ]
        else:
            found = problems(self.document, schema, body)
        assert not found, f"{operation['operationId']} {status} breaks its schema: {found}"
        return Answer(response.status_code, response.headers, body)
