"""TokenAccount's rules, on the aggregate alone: tokens, the rolling hour, idempotency keys."""

from __future__ import annotations

from datetime import timedelta
from uuid import uuid4

import pytest

from domain.accounts import TokenAccount
from domain.errors import (
    AccountDisabled,
    IdempotencyKeyReused,
    InsufficientTokens,
    InvalidAmount,
    InvalidRequest,
    InvalidTransition,
    RateLimitExceeded,
)
from tests.support.clock import T0


def opened(tokens: int = 10) -> TokenAccount:
    return TokenAccount.open("alice", tokens, T0)


def test_reserving_holds_tokens_until_captured_or_released() -> None:
    account = opened(5)
    first, second = uuid4(), uuid4()
    account.reserve(first, 2, T0, hourly_limit=10)
    account.reserve(second, 2, T0, hourly_limit=10)
    assert (account.balance, account.reserved, account.available) == (5, 4, 1)
    account.capture(first, T0)
    assert (account.balance, account.reserved, account.available) == (3, 2, 1)
    account.release(second, T0)
    assert (account.balance, account.reserved, account.available) == (3, 0, 3)


def test_reservation_is_refused_when_available_tokens_do_not_cover_the_cost() -> None:
    account = opened(3)
    account.reserve(uuid4(), 2, T0, hourly_limit=None)
    with pytest.raises(InsufficientTokens) as caught:
        account.reserve(uuid4(), 2, T0, hourly_limit=None)
    assert (caught.value.required, caught.value.available, caught.value.shortfall) == (2, 1, 1)
    assert str(caught.value) == "Insufficient tokens. Required: 2, Available: 1"
    assert account.available == 1


def test_a_reservation_resolves_exactly_once() -> None:
    account = opened()
    generation = uuid4()
    account.reserve(generation, 1, T0, hourly_limit=None)
    account.capture(generation, T0)
    with pytest.raises(InvalidTransition):
        account.release(generation, T0)
    with pytest.raises(InvalidTransition):
        account.capture(generation, T0)
    with pytest.raises(InvalidTransition):
        account.release(uuid4(), T0)


def test_one_generation_holds_one_reservation() -> None:
    account = opened()
    generation = uuid4()
    account.reserve(generation, 1, T0, hourly_limit=None)
    with pytest.raises(InvalidTransition):
        account.reserve(generation, 1, T0, hourly_limit=None)


def test_rolling_hour_allows_the_limit_then_refuses_until_the_oldest_leaves() -> None:
    account = opened(100)
    for minute in range(3):
        account.reserve(uuid4(), 1, T0 + timedelta(minutes=minute), hourly_limit=3)
    with pytest.raises(RateLimitExceeded) as caught:
        account.reserve(uuid4(), 1, T0 + timedelta(minutes=30), hourly_limit=3)
    assert caught.value.retry_after_seconds == 30 * 60
    # One hour after the first acceptance, a slot is free again.
    account.reserve(uuid4(), 1, T0 + timedelta(hours=1, seconds=1), hourly_limit=3)
    assert len(account.accepted_in_window(T0 + timedelta(hours=1, seconds=1))) == 3


def test_window_state_stays_small() -> None:
    account = opened(1000)
    for hour in range(50):
        account.reserve(uuid4(), 1, T0 + timedelta(hours=hour), hourly_limit=2)
    assert len(account.accepted_at) == 1


def test_rate_limit_counts_acceptances_whatever_happened_to_them() -> None:
    account = opened(10)
    generation = uuid4()
    account.reserve(generation, 1, T0, hourly_limit=1)
    account.release(generation, T0)
    with pytest.raises(RateLimitExceeded):
        account.reserve(uuid4(), 1, T0, hourly_limit=1)


def test_disabled_account_refuses_reservations_and_can_be_enabled() -> None:
    account = opened()
    account.disable("chargeback", T0)
    account.disable("again", T0)  # no second event: disabling is idempotent
    assert account.disabled_reason == "chargeback"
    with pytest.raises(AccountDisabled):
        account.reserve(uuid4(), 1, T0, hourly_limit=None)
    account.enable(T0)
    account.reserve(uuid4(), 1, T0, hourly_limit=None)
    names = [type(e).__name__ for e in account.collect_events()]
    assert names == ["AccountOpened", "AccountDisabled", "AccountEnabled", "TokensReserved"]


def test_idempotency_key_recalls_its_answer_until_it_expires() -> None:
    account = opened()
    generation = uuid4()
    remember = {"key": "k1", "fingerprint": "f1", "expires_at": T0 + timedelta(days=1)}
    account.reserve(generation, 1, T0, hourly_limit=None, idempotency=remember)
    assert account.recall("generate", "k1", "f1", T0) == str(generation)
    assert account.recall("grant", "k1", "f1", T0) is None  # keys are scoped per use
    with pytest.raises(IdempotencyKeyReused):
        account.recall("generate", "k1", "different", T0)
    assert account.recall("generate", "k1", "f1", T0 + timedelta(days=1)) is None


def test_expired_keys_are_forgotten_when_new_ones_arrive() -> None:
    account = opened(100)
    for day in range(5):
        at = T0 + timedelta(days=day)
        remember = {"key": f"k{day}", "fingerprint": "f", "expires_at": at + timedelta(hours=1)}
        account.reserve(uuid4(), 1, at, hourly_limit=None, idempotency=remember)
    assert list(account.remembered) == ["generate:k4"]


def test_grants_add_to_the_balance_within_bounds() -> None:
    account = opened(0)
    account.grant(1_000_000, "top-up", T0)
    assert account.balance == 1_000_000
    for amount in (0, -1, 1_000_001):
        with pytest.raises(InvalidAmount):
            account.grant(amount, "bad", T0)
    with pytest.raises(InvalidAmount):
        TokenAccount.open("bob", -1, T0)


def test_replayed_grant_answers_with_the_version_after_it() -> None:
    account = opened(0)
    remember = {"key": "g1", "fingerprint": "f", "expires_at": T0 + timedelta(days=1)}
    account.grant(5, "promo", T0, remember)
    assert account.recall("grant", "g1", "f", T0) == str(account.version)


@pytest.mark.parametrize("user_id", ["", "has space", "x" * 129, "caf\u00e9", "a/b", "alice\n"])
def test_an_account_needs_a_user_id_a_token_can_carry(user_id: str) -> None:
    with pytest.raises(InvalidRequest):
        TokenAccount.open(user_id, 0, T0)
