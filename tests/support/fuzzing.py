"""Schemathesis against a live server, as the fuzz test and bench/fuzz.py run it: the served
document split by role, and one `schemathesis run` per role with a token of that role, through
its examples, coverage, fuzzing and stateful (links) phases. A failure is a 5xx, an answer
outside its documented schema, headers or content type, or a status the operation does not
list."""

from __future__ import annotations

import copy
import json
import re
import subprocess
import sys
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

CHECKS = (
    "not_a_server_error,status_code_conformance,content_type_conformance,"
    "response_headers_conformance,response_schema_conformance"
)
PHASES = "examples,coverage,fuzzing,stateful"
PUBLIC = "user"  # operations that need no token run with the user's


@dataclass(frozen=True)
class RoleRun:
    role: str
    operations: int
    tested: int
    cases: int
    seconds: float
    passed: bool
    output: str


def first_role(operation: dict[str, Any]) -> str:
    security = operation.get("security") or [{}]
    roles: list[str] = security[0].get("bearerAuth", [])
    return roles[0] if roles else PUBLIC


WEBHOOK_URL = "http://127.0.0.1:9/atelier-hooks"  # the discard port: connections are refused
HELD_HEADERS = ("Prefer",)
# A status stream stays open until its generation ends, with a keep-alive every 15 s that keeps
# any request timeout from firing; Schemathesis infers links of its own (from answers and
# Location headers) and so can hand it a pending generation, whose stream would hold the run
# for good. It is driven on an ended generation in tests/http/test_openapi.py instead, and its
# events are checked against the document there.
UNBOUNDED = "/api/generations/{generation_id}/stream"


def fuzzable(document: dict[str, Any]) -> dict[str, Any]:
    """The document as fuzzed: a webhook URL is only ever the one on 127.0.0.1 that refuses
    connections (deliveries must not leave the machine); no `Prefer` header: `wait=60` on a
    pending generation reached through a link holds each such case a minute, past the
    request timeout; and no status stream (UNBOUNDED)."""
    fuzzed = copy.deepcopy(document)
    fuzzed["paths"].pop(UNBOUNDED, None)
    for methods in fuzzed["paths"].values():
        for operation in methods.values():
            operation["parameters"] = [
                parameter
                for parameter in operation.get("parameters", [])
                if parameter["name"] not in HELD_HEADERS
            ]
    for schema in fuzzed["components"]["schemas"].values():
        url = schema.get("properties", {}).get("url")
        if schema.get("title") == "WebhookBody" and url is not None:
            schema["properties"]["url"] = {"type": "string", "enum": [WEBHOOK_URL]}
    return fuzzed


def documents_by_role(document: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Each role's operations (those whose first accepted role it is) in a document of its own."""
    split: dict[str, dict[str, Any]] = {}
    for path, methods in document["paths"].items():
        for method, operation in methods.items():
            part = split.setdefault(first_role(operation), {**copy.deepcopy(document), "paths": {}})
            part["paths"].setdefault(path, {})[method] = operation
    return split


def schemathesis_run(
    base_url: str,
    role: str,
    document: dict[str, Any],
    token: str,
    examples: int,
    directory: Path,
    seed: int = 1,
) -> RoleRun:
    location = directory / f"openapi-{role}.json"
    location.write_text(json.dumps(document))
    command = [
        str(Path(sys.executable).parent / "schemathesis"),
        "run",
        str(location),
        "--url",
        base_url,
        "--header",
        f"Authorization: Bearer {token}",
        "--checks",
        CHECKS,
        "--phases",
        PHASES,
        "--max-examples",
        str(examples),
        "--seed",
        str(seed),
        "--request-timeout",
        "30",
        "--no-color",
    ]
    started = time.monotonic()
    done = subprocess.run(  # in `directory`, where Schemathesis keeps its cache
        command, cwd=directory, capture_output=True, text=True, check=False, timeout=1800
    )
    output = done.stdout + done.stderr
    generated = re.search(r"(\d+) generated", output)
    tested = re.search(r"Tested: (\d+)", output)
    return RoleRun(
        role,
        sum(len(methods) for methods in document["paths"].values()),
        int(tested[1]) if tested else 0,
        int(generated[1]) if generated else 0,
        time.monotonic() - started,
        done.returncode == 0,
        output,
    )


def fuzz(
    base_url: str,
    tokens: Mapping[str, str],
    document: dict[str, Any],
    examples: int,
    directory: Path,
    roles: tuple[str, ...] = ("admin", "user", "worker"),
) -> list[RoleRun]:
    return [
        schemathesis_run(base_url, role, part, tokens[role], examples, directory)
        for role, part in sorted(documents_by_role(fuzzable(document)).items())
        if role in roles
    ]
