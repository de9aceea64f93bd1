"""Saving: one transaction for every aggregate given, and snapshots taken from memory when a
save crosses a multiple of the snapshot interval, equal to what replaying the events gives."""

from __future__ import annotations

import pytest
from eventsourcing.persistence import IntegrityError

from application.base import ACCOUNT_SNAPSHOT_INTERVAL
from domain.accounts import TokenAccount
from domain.identifiers import account_id
from tests.application.conftest import AppFactory


def snapshot_versions(app: object, aggregate_id: object) -> list[int]:
    snapshots = app.snapshots  # type: ignore[attr-defined]
    return [s.originator_version for s in snapshots.get(aggregate_id)]


def test_a_snapshot_is_taken_when_a_save_crosses_the_interval(make_app: AppFactory) -> None:
    app = make_app()
    app.open_account("alice", 0)
    for _ in range(ACCOUNT_SNAPSHOT_INTERVAL - 2):
        app.grant_tokens("alice", 1, "drip")
    assert snapshot_versions(app, account_id("alice")) == []
    account = app.load_account("alice")
    for _ in range(3):  # versions 100, 101, 102 in one save: crosses 100
        account.grant(1, "batch", app.clock())
    app.save(account)
    assert snapshot_versions(app, account_id("alice")) == [ACCOUNT_SNAPSHOT_INTERVAL + 2]


def test_a_snapshot_equals_the_replayed_aggregate(make_app: AppFactory) -> None:
    app = make_app()
    app.open_account("alice", 5)
    for n in range(ACCOUNT_SNAPSHOT_INTERVAL):
        app.grant_tokens("alice", n + 1, "drip")
    snapshot = list(app.snapshots.get(account_id("alice")))[-1]  # type: ignore[union-attr]
    from_snapshot: TokenAccount = snapshot.mutate(None)
    replayed: TokenAccount = app.repository.get(
        account_id("alice"), version=snapshot.originator_version
    )
    assert vars(from_snapshot) == vars(replayed)


def test_a_failed_save_writes_nothing_and_takes_no_snapshot(make_app: AppFactory) -> None:
    app = make_app()
    app.open_account("alice", 0)
    stale = app.load_account("alice")
    app.grant_tokens("alice", 1, "first")
    for _ in range(ACCOUNT_SNAPSHOT_INTERVAL):
        stale.grant(1, "stale", app.clock())
    with pytest.raises(IntegrityError):
        app.save(stale)
    assert app.get_account("alice").record.balance == 1
    assert snapshot_versions(app, account_id("alice")) == []
