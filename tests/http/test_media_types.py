"""Request bodies are UTF-8 JSON: another Content-Type, another charset or a UTF-16/32 body on a
route that takes a body is `415 UNSUPPORTED_MEDIA_TYPE`, and nothing is stored."""

from __future__ import annotations

import json

import pytest
from starlette.testclient import TestClient

from tests.support.builders import admin, bearer, generation_body
from tests.support.clients import open_account, stored_events

BODY = json.dumps(generation_body())


def answer(client: TestClient, path: str, content: bytes, headers: dict[str, str]) -> int:
    before = stored_events(client)
    response = client.post(path, content=content, headers=headers)
    if response.status_code == 415:
        assert response.json()["code"] == "UNSUPPORTED_MEDIA_TYPE"
        assert response.headers["x-content-type-options"] == "nosniff"
        assert stored_events(client) == before
    return response.status_code


@pytest.mark.parametrize(
    ("content_type", "encoding"),
    [
        ("text/plain", "utf-8"),
        ("application/x-www-form-urlencoded", "utf-8"),
        ("multipart/form-data; boundary=x", "utf-8"),
        ("application/vnd.api+json", "utf-8"),
        ("application/json; charset=utf-16", "utf-16"),
        ("application/json; charset=UTF-16LE", "utf-16-le"),
        ("application/json; charset=latin-1", "latin-1"),
        ("application/json", "utf-16"),
        ("application/json", "utf-16-be"),
        ("application/json", "utf-32"),
        (None, "utf-16"),
    ],
)
def test_other_media_types_and_encodings_are_415(
    client: TestClient, content_type: str | None, encoding: str
) -> None:
    open_account(client, "alice", 5)
    typed = {} if content_type is None else {"Content-Type": content_type}
    submit = {**bearer("alice"), **typed}
    assert answer(client, "/api/generate", BODY.encode(encoding), submit) == 415
    grant = json.dumps({"amount": 1, "reason": "gift"}).encode(encoding)
    assert answer(client, "/api/admin/accounts/alice/grants", grant, {**admin(), **typed}) == 415


@pytest.mark.parametrize(
    "content_type",
    [
        None,
        "application/json",
        "application/json; charset=utf-8",
        "Application/JSON; Charset=UTF-8",
        'application/json; charset="utf-8"',
        "application/json;charset=utf8",
    ],
)
def test_json_in_utf8_is_accepted(client: TestClient, content_type: str | None) -> None:
    open_account(client, "alice", 5)
    headers = {**bearer("alice")}
    if content_type is not None:
        headers["Content-Type"] = content_type
    assert answer(client, "/api/generate", BODY.encode(), headers) == 201
    assert answer(client, "/api/generate", b"\xef\xbb\xbf" + BODY.encode(), headers) == 201


def test_a_bodiless_route_takes_no_body_whatever_its_type(client: TestClient) -> None:
    open_account(client, "alice", 5)
    response = client.post(
        "/api/admin/accounts/alice/enable", headers={**admin(), "Content-Type": "text/plain"}
    )
    assert response.status_code == 200
