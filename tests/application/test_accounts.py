"""Opening, granting to, disabling and reading accounts."""

from __future__ import annotations

import pytest

from application.errors import AccountExists, AccountNotFound
from domain.errors import IdempotencyKeyReused, InvalidAmount
from tests.application.conftest import AppFactory
from tests.support.clock import Clock


def test_open_then_read_the_account(make_app: AppFactory) -> None:
    app = make_app()
    opened = app.open_account("alice", 7)
    assert (opened.record.balance, opened.record.available, opened.record.status) == (
        7,
        7,
        "active",
    )
    assert app.get_account("alice").record.version == 1


def test_opening_twice_is_refused(make_app: AppFactory) -> None:
    app = make_app()
    app.open_account("alice", 7)
    with pytest.raises(AccountExists):
        app.open_account("alice", 1)
    assert app.get_account("alice").record.balance == 7


def test_grants_are_idempotent_per_key(make_app: AppFactory, clock: Clock) -> None:
    app = make_app()
    app.open_account("alice", 0)
    first, replayed = app.grant_tokens("alice", 10, "promo", idempotency_key="g-1")
    assert not replayed and first.record.balance == 10
    app.grant_tokens("alice", 5, "other")
    again, replayed = app.grant_tokens("alice", 10, "promo", idempotency_key="g-1")
    assert replayed
    assert (again.record.balance, again.record.version) == (10, first.record.version)
    assert app.get_account("alice").record.balance == 15
    with pytest.raises(IdempotencyKeyReused):
        app.grant_tokens("alice", 11, "promo", idempotency_key="g-1")
    clock.advance(days=2)
    _, replayed = app.grant_tokens("alice", 10, "promo", idempotency_key="g-1")
    assert not replayed
    assert app.get_account("alice").record.balance == 25


def test_grants_to_unknown_accounts_and_bad_amounts_are_refused(make_app: AppFactory) -> None:
    app = make_app()
    with pytest.raises(AccountNotFound):
        app.grant_tokens("ghost", 5, "x")
    app.open_account("alice", 0)
    with pytest.raises(InvalidAmount):
        app.grant_tokens("alice", 0, "x")


def test_disable_and_enable(make_app: AppFactory) -> None:
    app = make_app()
    app.open_account("alice", 1)
    assert app.disable_account("alice", "fraud").record.status == "disabled"
    assert app.enable_account("alice").record.status == "active"


def test_account_as_it_was_at_a_version(make_app: AppFactory) -> None:
    app = make_app()
    app.open_account("alice", 1)
    app.grant_tokens("alice", 4, "x")
    assert app.get_account("alice", version=1).record.balance == 1
    assert app.get_account("alice", version=2).record.balance == 5
