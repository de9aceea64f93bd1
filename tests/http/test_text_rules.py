"""API.md's text rules on every string a client sends: no lone surrogate, NUL or other control
character (tab, line feed and carriage return allowed in a prompt and a reason); each refusal is
`400 VALIDATION_ERROR` on its field and stores nothing."""

from __future__ import annotations

import json
from typing import Any
from uuid import uuid4

import pytest
from starlette.testclient import TestClient

from tests.support.builders import admin, bearer, generation_body, image_url
from tests.support.clients import open_account, stored_events

UNSAFE = ["\udfff", "\ud800", "\x00", "\x01", "\x1b", "\x7f", "\x85", "\x9f"]
TEXT_MESSAGE = "Text must not contain NUL, control characters or lone surrogates"


def raw_json(body: Any) -> bytes:
    """JSON with every non-ASCII character escaped, so lone surrogates travel as `\\udfff`."""
    return json.dumps(body).encode()


def refused_on(
    client: TestClient,
    method: str,
    path: str,
    field: str,
    body: Any = None,
    headers: dict[str, str] | None = None,
) -> None:
    before = stored_events(client)
    content = None if body is None else raw_json(body)
    response = client.request(
        method,
        path,
        content=content,
        headers={"Content-Type": "application/json", **(headers or {})},
    )
    assert response.status_code == 400, response.text
    error = response.json()
    assert error["code"] == "VALIDATION_ERROR"
    assert {"field": field, "message": TEXT_MESSAGE} in error["validationErrors"], error
    assert stored_events(client) == before


@pytest.fixture
def alice(client: TestClient) -> TestClient:
    open_account(client, "alice", 5)
    return client


@pytest.mark.parametrize("character", UNSAFE)
@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"productImages": [image_url("a{c}")]}, "productImages.0"),
        ({"modelImages": [image_url(), image_url("b{c}")]}, "modelImages.1"),
        ({"model": "gpt-4.1-dalle-3{c}"}, "model"),
        ({"customPrompt": "before{c}after"}, "customPrompt"),
        ({"productImage": image_url("a{c}"), "productImages": None}, "productImage"),
    ],
)
def test_unsafe_text_in_a_submission_is_refused_on_its_field(
    alice: TestClient, character: str, changes: dict[str, Any], field: str
) -> None:
    body = generation_body()
    for name, value in changes.items():
        if value is None:
            body.pop(name, None)
        elif isinstance(value, list):
            body[name] = [v.replace("{c}", character) for v in value]
        else:
            body[name] = value.replace("{c}", character)
    refused_on(alice, "POST", "/api/generate", field, body, bearer("alice"))


@pytest.mark.parametrize(
    ("key", "field"),
    [
        ("\udfff", "\\udfff"),
        ("bad\x00key", "bad\\x00key"),
        ("style\x7f", "style\\x7f"),
    ],
)
def test_unsafe_keys_are_refused_with_an_escaped_field_name(
    alice: TestClient, key: str, field: str
) -> None:
    refused_on(
        alice, "POST", "/api/generate", field, {**generation_body(), key: 1}, bearer("alice")
    )
    nested = {**generation_body(), "parameters": {key: 1}}
    refused_on(alice, "POST", "/api/generate", f"parameters.{field}", nested, bearer("alice"))


def test_a_prompt_may_hold_tab_line_feed_and_carriage_return(alice: TestClient) -> None:
    body = generation_body(customPrompt="a street\twith\nsun\r\nand shade")
    response = alice.post("/api/generate", content=raw_json(body), headers=bearer("alice"))
    assert response.status_code == 201, response.text


@pytest.mark.parametrize("character", ["\x00", "\x01", "\x7f", "\x85"])
def test_unsafe_query_values_and_names_are_refused(alice: TestClient, character: str) -> None:
    escaped = character.encode("utf-8").hex()
    encoded = "".join(f"%{escaped[i : i + 2]}" for i in range(0, len(escaped), 2))
    for path, field in [
        (f"/api/generations?status=pending{encoded}", "status"),
        (f"/api/generations?cursor={encoded}", "cursor"),
        (f"/api/generations/{uuid4()}/events?limit={encoded}", "limit"),
        (f"/api/queue?x{encoded}=1", "x" + character.encode("unicode_escape").decode()),
        (f"/api/account?q={encoded}", "q"),
    ]:
        refused_on(alice, "GET", path, field, headers=bearer("alice"))
    for path, field in [
        (f"/api/admin/accounts/alice?version={encoded}", "version"),
        (f"/api/admin/stats?x={encoded}", "x"),
    ]:
        refused_on(alice, "GET", path, field, headers=admin())


@pytest.mark.parametrize("character", ["\x00", "\x01", "\x85"])
def test_unsafe_path_parameters_are_refused(alice: TestClient, character: str) -> None:
    escaped = character.encode("utf-8").hex()
    encoded = "".join(f"%{escaped[i : i + 2]}" for i in range(0, len(escaped), 2))
    refused_on(alice, "GET", f"/api/admin/accounts/al{encoded}ice", "userId", headers=admin())
    refused_on(
        alice,
        "POST",
        f"/api/admin/accounts/al{encoded}ice/grants",
        "userId",
        {"amount": 1, "reason": "gift"},
        admin(),
    )
    refused_on(alice, "GET", f"/api/generations/{encoded}", "id", headers=bearer("alice"))
    refused_on(alice, "POST", f"/api/generations/{encoded}/cancel", "id", headers=bearer("alice"))


@pytest.mark.parametrize("header", ["Idempotency-Key", "X-Request-ID"])
@pytest.mark.parametrize("value", ["key\x01", "key\x7f", "key\x1b[31m"])
def test_unsafe_text_headers_are_refused(alice: TestClient, header: str, value: str) -> None:
    headers = {**bearer("alice"), header: value}
    refused_on(alice, "POST", "/api/generate", header, generation_body(), headers)
    refused_on(alice, "GET", "/api/account", header, headers=headers)


@pytest.mark.parametrize("character", UNSAFE)
def test_unsafe_text_in_admin_and_worker_bodies_is_refused(
    alice: TestClient, character: str
) -> None:
    accounts = "/api/admin/accounts"
    refused_on(alice, "POST", accounts, "userId", {"userId": f"bob{character}"}, admin())
    grant = {"amount": 1, "reason": f"gift{character}"}
    refused_on(alice, "POST", f"{accounts}/alice/grants", "reason", grant, admin())
    disable = {"reason": f"abuse{character}"}
    refused_on(alice, "POST", f"{accounts}/alice/disable", "reason", disable, admin())
    generation = f"/api/worker/generations/{uuid4()}"
    complete = {"resultImages": [f"https://cdn.example/a{character}.png"]}
    refused_on(alice, "POST", f"{generation}/complete", "resultImages.0", complete, admin())
    refused_on(alice, "POST", f"{generation}/fail", "reason", {"reason": f"x{character}"}, admin())
    claim = {"workerId": f"w{character}"}
    refused_on(alice, "POST", "/api/worker/claim", "workerId", claim, bearer("w", "worker"))


def test_a_reason_may_hold_tab_line_feed_and_carriage_return(alice: TestClient) -> None:
    grant = {"amount": 1, "reason": "gift\tfor\r\nthe launch"}
    response = alice.post("/api/admin/accounts/alice/grants", json=grant, headers=admin())
    assert response.status_code == 201, response.text


def test_a_deeply_nested_body_is_walked_without_running_out_of_stack(alice: TestClient) -> None:
    depth = 900
    nested = "[" * depth + '{"\\u0000": 1}' + "]" * depth
    raw = ('{"parameters": {"seed": ' + nested + "}}").encode()
    before = stored_events(alice)
    response = alice.post("/api/generate", content=raw, headers=bearer("alice"))
    assert response.status_code == 400, response.text
    fields = [item["field"] for item in response.json()["validationErrors"]]
    assert "parameters.seed" + ".0" * depth + ".\\x00" in fields
    assert stored_events(alice) == before
