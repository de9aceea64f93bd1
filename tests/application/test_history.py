"""Histories: a generation's events for its owner, an account's for an admin, any aggregate's
for the CLI, page by page; and an account as it was at a version, snapshots or not."""

from __future__ import annotations

import pytest

from application.errors import AccountNotFound, GenerationNotFound
from domain.identifiers import account_id, queue_id
from tests.application.conftest import AppFactory
from tests.support.builders import generation_request
from tests.support.clock import Clock


def test_the_owner_reads_a_generations_events_oldest_first(
    make_app: AppFactory, clock: Clock
) -> None:
    app = make_app()
    app.open_account("alice", 5)
    receipt = app.submit_generation("alice", generation_request(quality="high"))
    clock.advance(minutes=1)
    app.cancel("alice", receipt.generation_id)
    page = app.generation_history("alice", receipt.generation_id)
    assert [(e.type, e.version) for e in page.entries] == [
        ("GenerationRequested", 1),
        ("ImageLinked", 2),
        ("GenerationCancelled", 3),
    ]
    requested = page.entries[0]
    assert requested.timestamp.tzinfo is not None
    assert requested.data["user_id"] == "alice"
    assert requested.data["token_cost"] == 2
    assert "originator_id" not in requested.data
    assert "originator_topic" not in requested.data
    assert page.entries[2].data == {"at": clock.now}
    assert (page.kind, page.next_after) == ("generation", None)


def test_another_users_or_an_unknown_generation_is_not_found(make_app: AppFactory) -> None:
    app = make_app()
    app.open_account("alice", 5)
    app.open_account("bob", 5)
    generation_id = app.submit_generation("alice", generation_request()).generation_id
    with pytest.raises(GenerationNotFound):
        app.generation_history("bob", generation_id)
    with pytest.raises(GenerationNotFound):
        app.generation_history("alice", account_id("alice"))  # an account's id is no generation


def test_an_accounts_history_pages_through_every_event(make_app: AppFactory) -> None:
    app = make_app()
    app.open_account("alice", 1)
    for amount in range(1, 6):
        app.grant_tokens("alice", amount, "top-up")
    first = app.account_history("alice", limit=4)
    assert [e.version for e in first.entries] == [1, 2, 3, 4]
    assert first.next_after == 4
    rest = app.account_history("alice", after=first.next_after, limit=4)
    assert [e.version for e in rest.entries] == [5, 6]
    assert rest.next_after is None
    assert [e.data["amount"] for e in rest.entries] == [4, 5]
    assert first.entries[0].type == "AccountOpened"


def test_the_history_of_an_unknown_account_is_not_found(make_app: AppFactory) -> None:
    with pytest.raises(AccountNotFound):
        make_app().account_history("ghost")


def test_any_identifier_names_its_aggregate(make_app: AppFactory) -> None:
    app = make_app()
    app.open_account("alice", 5)
    generation_id = app.submit_generation("alice", generation_request()).generation_id
    assert app.aggregate_history(str(generation_id)).kind == "generation"
    assert app.aggregate_history("alice").kind == "account"
    assert app.aggregate_history(str(account_id("alice"))).kind == "account"
    queue = app.aggregate_history(str(queue_id()))
    assert (queue.kind, [e.type for e in queue.entries]) == (
        "queue",
        ["QueueOpened", "GenerationQueued"],
    )
    with pytest.raises(AccountNotFound):
        app.aggregate_history("nobody")


def test_time_travel_reads_the_account_before_and_after_its_snapshot(
    make_app: AppFactory,
) -> None:
    """Snapshots are taken every 100 versions; an earlier version still replays exactly."""
    app = make_app()
    app.open_account("alice", 0)
    for _ in range(150):
        app.grant_tokens("alice", 1, "drip")
    account = account_id("alice")
    assert app.snapshots is not None
    assert [s.originator_version for s in app.snapshots.get(account)] == [100]
    assert app.get_account("alice", version=50).record.balance == 49
    assert app.get_account("alice", version=100).record.balance == 99
    assert app.get_account("alice", version=120).record.balance == 119
    assert app.get_account("alice").record.balance == 150
    with pytest.raises(AccountNotFound):
        app.get_account("alice", version=152)
    with pytest.raises(AccountNotFound):
        app.get_account("ghost", version=1)
