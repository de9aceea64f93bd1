"""Live status against real `atelier serve` processes on each store: the event stream and
`Prefer: wait` see changes a second server process records (a worker's claim and completion)."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from infrastructure.bootstrap import build_application
from tests.conftest import SettingsFactory
from tests.support.builders import bearer, generation_body
from tests.support.metrics import parse_samples, value
from tests.support.servers import Server, atelier_server
from tests.support.stores import settings_env

pytestmark = pytest.mark.slow

WORKER = bearer("worker-1", "worker")
ALICE = bearer("alice")
RESULT = "https://cdn.example.com/results/1.png"
GENEROUS_SECONDS = 20  # far above the 1 s the contract promises: a bound for correctness only


@dataclass
class Frame:
    """One Server-Sent Events frame: an event, or a comment."""

    event: str | None = None
    id: int | None = None
    data: dict[str, Any] | None = None
    comment: str | None = None


def frames(response: httpx.Response) -> Iterator[Frame]:
    frame = Frame()
    for line in response.iter_lines():
        if line == "":
            if frame != Frame():
                yield frame
            frame = Frame()
        elif line.startswith(":"):
            yield Frame(comment=line[1:].strip())
        else:
            name, _, value = line.partition(": ")
            if name == "event":
                frame.event = value
            elif name == "id":
                frame.id = int(value)
            elif name == "data":
                frame.data = json.loads(value)


def next_event(stream: Iterator[Frame]) -> Frame:
    """The next event, past keep-alive comments."""
    for frame in stream:
        if frame.comment is None:
            return frame
    raise AssertionError("the stream ended")


@contextmanager
def two_servers(make_settings: SettingsFactory) -> Iterator[tuple[Server, Server]]:
    """A server for the watchers and one for the worker, on one store; the request timeout
    short and the keep-alive interval shorter, so a test sees both well inside its time."""
    settings = make_settings()
    with build_application(settings) as atelier:
        atelier.open_account("alice", 20)
        atelier.open_account("bob", 20)
    env = {
        **settings_env(settings),
        "REQUEST_TIMEOUT_SECONDS": "2",
        "STREAM_KEEPALIVE_SECONDS": "1",
    }
    with ExitStack() as stack:
        watched = stack.enter_context(atelier_server(env))
        working = stack.enter_context(atelier_server(env))
        yield watched, working


def submit(server: Server) -> str:
    created = httpx.post(f"{server.base_url}/api/generate", json=generation_body(), headers=ALICE)
    assert created.status_code == 201, created.text
    return str(created.json()["data"]["_id"])


def claim(server: Server, generation_id: str) -> None:
    claimed = httpx.post(
        f"{server.base_url}/api/worker/claim", json={"workerId": "worker-1"}, headers=WORKER
    )
    assert claimed.status_code == 200, claimed.text
    assert claimed.json()["data"]["_id"] == generation_id


def complete(server: Server, generation_id: str) -> None:
    completed = httpx.post(
        f"{server.base_url}/api/worker/generations/{generation_id}/complete",
        json={"workerId": "worker-1", "resultImages": [RESULT]},
        headers=WORKER,
    )
    assert completed.status_code == 200, completed.text


def as_get_shows(server: Server, generation_id: str) -> dict[str, Any]:
    answer = httpx.get(f"{server.base_url}/api/generations/{generation_id}", headers=ALICE)
    data: dict[str, Any] = answer.json()["data"]
    return data


def stream(client: httpx.Client, server: Server, generation_id: str, **headers: str) -> Any:
    return client.stream(
        "GET",
        f"{server.base_url}/api/generations/{generation_id}/stream",
        headers={**ALICE, **headers},
    )


def test_stream_follows_a_generation_changed_by_another_process_to_its_end(
    make_settings: SettingsFactory,
) -> None:
    with two_servers(make_settings) as (watched, working), httpx.Client(timeout=30) as client:
        generation_id = submit(working)
        with stream(client, watched, generation_id) as response:
            assert response.status_code == 200
            assert response.headers["content-type"].startswith("text/event-stream")
            assert response.headers["cache-control"] == "no-store"
            assert response.headers["x-content-type-options"] == "nosniff"
            events = frames(response)
            first = next_event(events)
            assert first.event == "status"
            assert first.data == as_get_shows(watched, generation_id)
            assert first.data is not None and first.data["status"] == "pending"
            # Longer than the request timeout (2 s) and than the keep-alive interval (1 s):
            # the stream stays open and says so.
            comments = [frame.comment for frame in _frames_for(events, seconds=3)]
            assert "keep-alive" in comments
            claim(working, generation_id)
            processing = next_event(events)
            assert processing.data is not None and processing.data["status"] == "processing"
            assert processing.id is not None and first.id is not None
            assert processing.id > first.id
            complete(working, generation_id)
            completed = next_event(events)
            assert completed.data == as_get_shows(watched, generation_id)
            assert completed.data is not None and completed.data["status"] == "completed"
            assert completed.data["resultImages"] == [RESULT]
            assert [frame for frame in events if frame.comment is None] == []  # and it ends

        assert processing.id is not None and completed.id is not None
        with stream(client, watched, generation_id, **{"Last-Event-ID": str(processing.id)}) as r:
            resumed = [frame for frame in frames(r) if frame.comment is None]
        assert [(frame.id, frame.data) for frame in resumed] == [(completed.id, completed.data)]
        with stream(client, watched, generation_id, **{"Last-Event-ID": str(completed.id)}) as r:
            assert [frame for frame in frames(r) if frame.comment is None] == []
        with stream(client, watched, generation_id) as r:
            again = [frame for frame in frames(r) if frame.comment is None]
        assert [(frame.id, frame.data) for frame in again] == [(completed.id, completed.data)]
        with stream(client, watched, generation_id, **{"Last-Event-ID": "not-a-version"}) as r:
            assert len([frame for frame in frames(r) if frame.comment is None]) == 1


def _frames_for(events: Iterator[Frame], seconds: float) -> list[Frame]:
    """Frames read for about `seconds` (there is nothing else to read meanwhile but comments)."""
    read = []
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        read.append(next(events))
    return read


def test_a_stream_whose_client_left_is_let_go_within_a_keep_alive(
    sqlite_only: SettingsFactory,
) -> None:
    """The generation stays pending, so only noticing the hang-up ends the request: its
    answer is counted once it has ended."""
    route = "/api/generations/{generation_id}/stream"

    def streams_ended(server: Server) -> float:
        samples = parse_samples(httpx.get(f"{server.base_url}/metrics").text)
        labels = {"method": "GET", "route": route, "status": "200"}
        return value(samples, "atelier_http_requests_total", **labels)

    with two_servers(sqlite_only) as (watched, working):
        generation_id = submit(working)
        with httpx.Client(timeout=30) as client, stream(client, watched, generation_id) as held:
            assert next_event(frames(held)).event == "status"
            assert streams_ended(watched) == 0
        deadline = time.monotonic() + GENEROUS_SECONDS
        while streams_ended(watched) == 0 and time.monotonic() < deadline:
            time.sleep(0.1)
        assert streams_ended(watched) == 1
        assert as_get_shows(watched, generation_id)["status"] == "pending"


def test_another_users_or_an_unknown_generation_is_not_found_before_any_stream(
    make_settings: SettingsFactory,
) -> None:
    with two_servers(make_settings) as (watched, working):
        generation_id = submit(working)
        base = f"{watched.base_url}/api/generations"
        for path, headers in [
            (f"{base}/{generation_id}/stream", bearer("bob")),
            (f"{base}/00000000-0000-0000-0000-000000000000/stream", ALICE),
            (f"{base}/not-a-uuid/stream", ALICE),
        ]:
            answer = httpx.get(path, headers=headers, timeout=30)
            assert answer.status_code == 404
            assert answer.headers["content-type"].startswith("application/json")
            assert answer.json()["code"] == "NOT_FOUND"
        head = httpx.head(f"{base}/{generation_id}/stream", headers=ALICE, timeout=30)
        assert head.status_code == 200  # answered at once, not held open
        assert head.headers["content-type"].startswith("text/event-stream")
        assert (
            httpx.head(f"{base}/{generation_id}/stream", headers=bearer("bob")).status_code == 404
        )
        unauthenticated = httpx.get(f"{base}/{generation_id}/stream", timeout=30)
        assert unauthenticated.status_code == 401
        assert unauthenticated.json()["code"] == "AUTHENTICATION_REQUIRED"
        held = httpx.get(
            f"{base}/{generation_id}", headers={**bearer("bob"), "Prefer": "wait=5"}, timeout=30
        )
        assert held.status_code == 404 and "preference-applied" not in held.headers


def test_prefer_wait_answers_when_another_process_completes_it_or_after_n_seconds(
    make_settings: SettingsFactory,
) -> None:
    with two_servers(make_settings) as (watched, working):
        generation_id = submit(working)
        url = f"{watched.base_url}/api/generations/{generation_id}"

        started = time.monotonic()
        timed_out = httpx.get(url, headers={**ALICE, "Prefer": "wait=3"}, timeout=30)
        assert time.monotonic() - started >= 3  # held the whole time, past the request timeout
        assert timed_out.status_code == 200
        assert timed_out.headers["preference-applied"] == "wait=3"
        assert timed_out.json()["data"]["status"] == "pending"

        answers: list[httpx.Response] = []
        waiting = threading.Thread(
            target=lambda: answers.append(
                httpx.get(url, headers={**ALICE, "Prefer": "wait=60"}, timeout=90)
            )
        )
        waiting.start()
        time.sleep(1)  # the request is held by now (and if not, it answers completed at once)
        claim(working, generation_id)
        complete(working, generation_id)
        completed_at = time.monotonic()
        waiting.join(timeout=60)
        assert time.monotonic() - completed_at < GENEROUS_SECONDS  # not the whole 60 s
        [answer] = answers
        assert answer.status_code == 200
        assert answer.headers["preference-applied"] == "wait=60"
        assert answer.json()["data"] == as_get_shows(watched, generation_id)
        assert answer.json()["data"]["status"] == "completed"

        started = time.monotonic()
        ended = httpx.get(url, headers={**ALICE, "Prefer": "wait=60"}, timeout=90)
        assert time.monotonic() - started < GENEROUS_SECONDS  # terminal: at once
        assert ended.headers["preference-applied"] == "wait=60"


def test_an_invalid_or_unknown_preference_is_ignored(sqlite_only: SettingsFactory) -> None:
    """RFC 7240: a preference the server does not understand is ignored, not refused."""
    with two_servers(sqlite_only) as (watched, working):
        generation_id = submit(working)
        url = f"{watched.base_url}/api/generations/{generation_id}"
        for prefer in ["wait=0", "wait=61", "wait=abc", "wait=-1", "wait", "wait=1.5", "x=1"]:
            started = time.monotonic()
            answer = httpx.get(url, headers={**ALICE, "Prefer": prefer}, timeout=90)
            assert time.monotonic() - started < GENEROUS_SECONDS, prefer
            assert answer.status_code == 200, prefer
            assert "preference-applied" not in answer.headers, prefer
            assert answer.json()["data"]["status"] == "pending"
        listed = httpx.get(url, headers={**ALICE, "Prefer": "respond-async, wait=1"}, timeout=90)
        assert listed.headers["preference-applied"] == "wait=1"
