"""GenerationRequested v2 records the request id; a v1 row, as the previous release stored it,
still loads (request id None) through the application, the audit's decoder and the views."""

from __future__ import annotations

import json
from pathlib import Path
from uuid import uuid4

from eventsourcing.persistence import StoredEvent
from eventsourcing.utils import get_topic

from application.audit.reading import EventDecoder, LoggedEvent
from domain.generations import Generation
from tests.support.builders import generation_request
from tests.support.clock import Clock
from tests.support.read_side import application, catch_up_all
from tests.support.stores import sqlite_settings

REQUESTED = get_topic(Generation.GenerationRequested)


def test_a_v1_generation_request_loads_with_no_request_id(tmp_path: Path) -> None:
    with application(sqlite_settings(tmp_path), Clock()) as (atelier, models):
        atelier.open_account("alice", 10)
        receipt = atelier.submit_generation("alice", generation_request(), request_id="req-7")
        stored = atelier.recorder.select_events(receipt.generation_id, lte=1)[0]
        state = json.loads(stored.state)
        assert (state["class_version"], state["request_id"]) == (3, "req-7")

        old_id = uuid4()  # the same request, in the shape v1 wrote: no version, no request id
        del state["class_version"], state["request_id"], state["queue_capacity"]
        old = StoredEvent(old_id, 1, REQUESTED, json.dumps(state).encode())
        atelier.recorder.insert_events([old])

        generation: Generation = atelier.repository.get(old_id)
        assert generation.request_id is None and generation.user_id == "alice"
        new: Generation = atelier.repository.get(receipt.generation_id)
        assert new.request_id == "req-7"
        decoder = EventDecoder(atelier.mapper)
        notes = atelier.recorder.select_notifications(start=None, limit=100, topics=[REQUESTED])
        data = [decoder.data(LoggedEvent.of(n), Generation.GenerationRequested) for n in notes]
        assert [d["request_id"] for d in data] == ["req-7", None]
        catch_up_all(atelier, models)
        assert len(models.views["user_generations"].contents()["user_generations"]) == 2
