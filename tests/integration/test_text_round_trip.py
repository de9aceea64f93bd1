"""Property (hypothesis): any text the API accepts comes back identically from every place it is
kept, on both stores: the stored event, the aggregate the application loads, the generation
list's view, the event history routes, the audit (which compares each view with the replayed
events), and the HTTP answers. Refused text stores nothing."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any
from uuid import UUID

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from starlette.testclient import TestClient

from domain.prompts import clean_custom_prompt
from tests.conftest import SettingsFactory
from tests.support.builders import admin, bearer, generation_body
from tests.support.clients import atelier, open_account, stored_events
from tests.support.read_side import catch_up_all
from web.asgi import app_from_settings

pytestmark = pytest.mark.slow

ALLOWED_CONTROLS = "\t\n\r"
# Every code point but the ones API.md refuses: lone surrogates, C0 and C1 controls and DEL
# (tab, line feed and carriage return allowed in a prompt and a reason).
TEXT = st.text(
    alphabet=st.characters(
        exclude_categories=("Cs",),
        exclude_characters="".join(
            chr(c) for c in [*range(0x20), *range(0x7F, 0xA0)] if chr(c) not in ALLOWED_CONTROLS
        ),
    ),
    min_size=1,
    max_size=40,
)
PROPERTY = settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


@pytest.fixture
def client(make_settings: SettingsFactory) -> Iterator[TestClient]:
    app = app_from_settings(
        make_settings(max_requests_per_hour=100_000, queue_max_size=100_000, banned_words="")
    )
    with TestClient(app, raise_server_exceptions=False) as test_client:
        open_account(test_client, "alice", 100_000)
        yield test_client


def raw_json(body: Any) -> bytes:
    return json.dumps(body).encode()  # every non-ASCII character escaped, as a client may send


@PROPERTY
@given(prompt=TEXT)
def test_an_accepted_prompt_is_kept_identically_everywhere(client: TestClient, prompt: str) -> None:
    before = stored_events(client)
    response = client.post(
        "/api/generate",
        content=raw_json(generation_body(customPrompt=prompt)),
        headers={**bearer("alice"), "Content-Type": "application/json"},
    )
    if response.status_code != 201:  # refused (over 500 characters once cleaned, say)
        assert response.status_code == 400, response.text
        assert stored_events(client) == before
        return
    expected = clean_custom_prompt(prompt)
    generation_id = response.json()["data"]["_id"]
    app = atelier(client)
    loaded = app.repository.get(UUID(generation_id))
    assert loaded.custom_prompt == expected
    shown = client.get(f"/api/generations/{generation_id}", headers=bearer("alice")).json()
    assert shown["data"]["customPrompt"] == expected
    history = client.get(f"/api/generations/{generation_id}/events", headers=bearer("alice"))
    assert history.json()["data"][0]["data"]["customPrompt"] == expected
    models = client.app.state.read_side  # type: ignore[attr-defined]
    catch_up_all(app, models)
    listed = client.get("/api/generations", params={"limit": "1"}, headers=bearer("alice"))
    newest = listed.json()["data"][0]
    assert newest["_id"] == generation_id and newest["customPrompt"] == expected
    assert newest["prompt"] == shown["data"]["prompt"] == loaded.prompt
    assert app.audit().clean


@PROPERTY
@given(reason=TEXT)
def test_an_accepted_grant_reason_is_kept_identically_everywhere(
    client: TestClient, reason: str
) -> None:
    before = stored_events(client)
    response = client.post(
        "/api/admin/accounts/alice/grants",
        content=raw_json({"amount": 1, "reason": reason}),
        headers={**admin(), "Content-Type": "application/json"},
    )
    if response.status_code != 201:
        assert response.status_code == 400, response.text
        assert stored_events(client) == before
        return
    events = client.get("/api/admin/accounts/alice/events", headers=admin()).json()["data"]
    assert events[-1]["data"]["reason"] == reason
    app = atelier(client)
    stored = app.recorder.select_events(app.load_account("alice").id, desc=True, limit=1)[0]
    assert app.mapper.to_domain_event(stored).reason == reason  # type: ignore[attr-defined]
    assert app.audit().clean
