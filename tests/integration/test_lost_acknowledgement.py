"""A commit whose acknowledgement is lost on PostgreSQL: the library retries the insert, gets an
IntegrityError, and the submission answers with what the lost commit wrote, charging once."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import pytest
from eventsourcing.persistence import InterfaceError, OperationalError, StoredEvent
from eventsourcing.postgres import PostgresApplicationRecorder
from eventsourcing.utils import get_topic, retry

from application.service import Atelier
from domain.generations import Generation
from infrastructure.locks.queue_mutex import queue_mutex
from infrastructure.persistence import event_store_env
from tests.support.builders import generation_request
from tests.support.read_side import event_counts
from tests.support.stores import postgres_schema, postgres_settings

pytestmark = pytest.mark.postgres

REQUESTED = get_topic(Generation.GenerationRequested)


class LosesOneAcknowledgement(PostgresApplicationRecorder):
    """Commits a new generation, then reports the connection lost, as a dropped session would;
    the library's retry then inserts again (what happens when a session dies during commit)."""

    armed = False
    lost = 0

    @retry((InterfaceError, OperationalError), max_attempts=10, wait=0.2)
    def insert_events(
        self, stored_events: Sequence[StoredEvent], **kwargs: Any
    ) -> Sequence[int] | None:
        ids = super().insert_events(stored_events, **kwargs)
        if self.armed and any(event.topic == REQUESTED for event in stored_events):
            type(self).armed = False
            type(self).lost += 1
            raise OperationalError("server closed the connection unexpectedly")
        return ids


@pytest.fixture
def atelier(tmp_path: Path) -> Iterator[Atelier]:
    with postgres_schema() as schema:
        settings = postgres_settings(tmp_path, schema)
        env = event_store_env(settings, create_tables=True)
        env["APPLICATION_RECORDER_TOPIC"] = get_topic(LosesOneAcknowledgement)
        atelier = Atelier(env=env, policy=settings.policy(), queue_mutex=queue_mutex(settings))
        try:
            yield atelier
        finally:
            atelier.close()


def test_a_lost_commit_acknowledgement_charges_once_and_answers_what_was_saved(
    atelier: Atelier,
) -> None:
    assert isinstance(atelier.recorder, LosesOneAcknowledgement)
    atelier.open_account("alice", 10)
    LosesOneAcknowledgement.armed = True

    receipt = atelier.submit_generation("alice", generation_request(), request_id="req-lost-ack")

    assert LosesOneAcknowledgement.lost == 1  # the fault did happen
    counts = event_counts(atelier)
    assert counts["GenerationRequested"] == 1
    assert counts["TokensReserved"] == 1
    account = atelier.load_account("alice")
    assert list(account.reservations) == [str(receipt.generation_id)]
    assert account.available == 10 - receipt.token_cost
    generation: Generation = atelier.repository.get(receipt.generation_id)
    assert generation.request_id == "req-lost-ack"
    assert not receipt.replayed  # the first answer to this request, not a key's replay
