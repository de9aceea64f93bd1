"""Schema evolution: events and snapshots stored in an older shape still load, upcast in turn.

`Wallet` is built the way Atelier's aggregates are (an `@event` method that only records), and
has evolved as docs/events.md describes: its `Credited` event gained a `source` (v2) and then
renamed `amount` to `tokens` (v3); its own state renamed `user` to `owner` (v2, for snapshots).
The old records are written into a real SQLite store by hand, byte for byte as an older release
would have left them, and then read through the application, the audit's decoder and a rename.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any
from uuid import uuid4

import pytest
from eventsourcing.application import Application
from eventsourcing.domain import Aggregate, Snapshot, event
from eventsourcing.persistence import Notification, StoredEvent
from eventsourcing.utils import clear_topic_cache, get_topic, register_topic

from application.audit.reading import EventDecoder, LoggedEvent

STAMP = {"_type_": "datetime_iso", "_data_": "2026-01-01T00:00:00+00:00"}


class Wallet(Aggregate):
    """Tokens credited from named sources."""

    class_version = 2  # v2: `user` became `owner` (snapshots taken by v1 are upcast)

    @staticmethod
    def upcast_v1_v2(state: dict[str, Any]) -> None:
        state["owner"] = state.pop("user")

    @event("Opened")
    def __init__(self, owner: str) -> None:
        self.owner = owner
        self.tokens = 0
        self.sources: list[str] = []

    class Credited(Aggregate.Event):
        """v1 {amount}; v2 added `source`; v3 renamed `amount` to `tokens`."""

        class_version = 3
        tokens: int
        source: str

        @staticmethod
        def upcast_v1_v2(state: dict[str, Any]) -> None:
            state["source"] = "unknown"  # what v1 credits were: nobody recorded a source

        @staticmethod
        def upcast_v2_v3(state: dict[str, Any]) -> None:
            state["tokens"] = state.pop("amount")

    def credit(self, tokens: int, source: str) -> None:
        if tokens < 1:
            raise ValueError("a credit is at least one token")
        self._credited(tokens=tokens, source=source)

    @event(Credited)
    def _credited(self, tokens: int, source: str) -> None:
        self.tokens += tokens
        self.sources.append(source)


CREDITED = get_topic(Wallet.Credited)


def record(wallet_id: Any, version: int, topic: str, state: dict[str, Any]) -> StoredEvent:
    """A stored event exactly as given: the bytes an older release wrote."""
    text = json.dumps({"timestamp": STAMP, **state}, separators=(",", ":"))
    return StoredEvent(wallet_id, version, topic, text.encode())


@pytest.fixture
def app(tmp_path: Path) -> Application[Any]:
    return Application(
        env={
            "PERSISTENCE_MODULE": "eventsourcing.sqlite",
            "SQLITE_DBNAME": str(tmp_path / "wallets.sqlite3"),
            "IS_SNAPSHOTTING_ENABLED": "y",
        }
    )


def old_wallet(app: Application[Any]) -> Any:
    """A wallet opened, then credited once in the v1 shape and once in the v2 shape."""
    wallet_id = uuid4()
    opened = {"originator_topic": get_topic(Wallet), "owner": "alice"}
    app.recorder.insert_events(
        [
            record(wallet_id, 1, get_topic(Wallet.Opened), opened),
            record(wallet_id, 2, CREDITED, {"amount": 5}),  # v1: no class_version stored
            record(wallet_id, 3, CREDITED, {"amount": 3, "source": "promo", "class_version": 2}),
        ]
    )
    return wallet_id


def test_events_stored_in_older_shapes_load_through_their_upcasters(
    app: Application[Any],
) -> None:
    wallet_id = old_wallet(app)
    wallet: Wallet = app.repository.get(wallet_id)
    assert (wallet.tokens, wallet.sources, wallet.version) == (8, ["unknown", "promo"], 3)
    credits = [e for e in app.events.get(wallet_id) if isinstance(e, Wallet.Credited)]
    assert [(e.tokens, e.source) for e in credits] == [(5, "unknown"), (3, "promo")]


def test_new_events_carry_their_class_version_and_old_ones_stay_as_they_were(
    app: Application[Any],
) -> None:
    wallet_id = old_wallet(app)
    wallet: Wallet = app.repository.get(wallet_id)
    wallet.credit(2, "bonus")
    app.save(wallet)
    stored = {
        n.originator_version: json.loads(n.state)
        for n in app.recorder.select_notifications(start=None, limit=10)
    }
    assert stored[4]["class_version"] == 3 and stored[4]["tokens"] == 2
    assert "class_version" not in stored[2] and stored[2]["amount"] == 5  # never rewritten
    reloaded: Wallet = app.repository.get(wallet_id)
    assert (reloaded.tokens, reloaded.sources) == (10, ["unknown", "promo", "bonus"])


def test_a_snapshot_taken_by_an_older_release_is_upcast_too(app: Application[Any]) -> None:
    wallet_id = old_wallet(app)
    assert app.snapshots is not None
    # Wallet v1's state. The owner differs from the events' on purpose: only a load that starts
    # from this snapshot (and upcasts it) can answer "carol".
    old_state = {"user": "carol", "tokens": 8, "sources": ["unknown", "promo"]}
    app.snapshots.recorder.insert_events(
        [
            record(
                wallet_id,
                3,
                get_topic(Snapshot),
                {"topic": get_topic(Wallet), "state": old_state},
            )
        ]
    )
    wallet: Wallet = app.repository.get(wallet_id)
    assert (wallet.owner, wallet.tokens, wallet.version) == ("carol", 8, 3)
    wallet.credit(1, "later")  # and it goes on from there
    assert (wallet.tokens, wallet.version) == (9, 4)


def test_the_audit_reads_old_shapes_as_the_application_does(app: Application[Any]) -> None:
    wallet_id = old_wallet(app)
    decoder = EventDecoder(app.mapper)
    notes: list[Notification] = list(app.recorder.select_notifications(start=None, limit=10))
    data = [decoder.data(LoggedEvent.of(n), Wallet.Credited) for n in notes[1:]]
    assert [(d["tokens"], d["source"]) for d in data] == [(5, "unknown"), (3, "promo")]
    assert all(n.originator_id == wallet_id for n in notes)


def test_a_renamed_event_class_still_answers_its_old_topic(app: Application[Any]) -> None:
    """v1 lived at another name: registering the old topic is the whole migration."""
    wallet_id = uuid4()
    old_topic = "wallets.old:PurseAggregate.Credited"
    opened = {"originator_topic": get_topic(Wallet), "owner": "bob"}
    app.recorder.insert_events(
        [
            record(wallet_id, 1, get_topic(Wallet.Opened), opened),
            record(wallet_id, 2, old_topic, {"amount": 4}),
        ]
    )
    register_topic(old_topic, Wallet.Credited)
    try:
        wallet: Wallet = app.repository.get(wallet_id)
    finally:
        clear_topic_cache()  # topics are looked up again from their modules when next needed
    assert (wallet.tokens, wallet.sources) == (4, ["unknown"])
