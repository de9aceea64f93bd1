"""Submitting a generation: what is stored on acceptance, and that a refusal stores nothing."""

from __future__ import annotations

from collections.abc import Sequence
from uuid import uuid4

import pytest

from application.errors import AccountNotFound, GenerationNotFound, SubmissionsClosed
from application.service import Atelier
from domain.errors import (
    AccountDisabled,
    FieldProblem,
    IdempotencyKeyReused,
    InsufficientTokens,
    InvalidImages,
    InvalidRequest,
    ModelUnavailable,
    QueueFull,
    RateLimitExceeded,
)
from domain.identifiers import account_id
from domain.requests import GenerationParameters
from tests.application.conftest import AppFactory
from tests.support.builders import PRODUCT_URL, generation_request
from tests.support.clock import Clock

MODEL_URL = "https://res.cloudinary.com/demo/image/upload/models/ana.png"


def stored_events(app: Atelier) -> int:
    return app.recorder.max_notification_id() or 0


def test_accepted_submission_reserves_tokens_and_records_generation(make_app: AppFactory) -> None:
    app = make_app()
    app.open_account("alice", 5)
    receipt = app.submit_generation(
        "alice",
        generation_request(
            model_images=(MODEL_URL,),
            quality="ultra",
            custom_prompt="  on a beach ",
            parameters=GenerationParameters(seed=42),
        ),
    )
    assert (receipt.status, receipt.token_cost, receipt.estimated_time) == (
        "pending",
        2,
        "2-3 minutes",
    )
    assert (receipt.queue_position, receipt.replayed) == (1, False)
    assert (receipt.rate_limit.limit, receipt.rate_limit.used, receipt.rate_limit.remaining) == (
        10,
        1,
        9,
    )
    generation = app.get_generation("alice", receipt.generation_id)
    assert generation.custom_prompt == "on a beach"
    assert generation.prompt.endswith(
        ", on a beach, ultra high resolution, extremely detailed, professional studio lighting"
    )
    assert generation.parameters["seed"] == 42
    assert [(i["role"], i["publicId"]) for i in generation.images] == [
        ("product", "shirts/blue-oxford"),
        ("model", "models/ana"),
    ]
    account = app.repository.get(account_id("alice"))
    assert (account.balance, account.reserved, account.available) == (5, 2, 3)
    assert account.reservations == {str(receipt.generation_id): 2}


def test_account_generation_and_images_are_saved_in_one_transaction(make_app: AppFactory) -> None:
    app = make_app()
    app.open_account("alice", 5)
    before = stored_events(app)
    receipt = app.submit_generation("alice", generation_request(model_images=(MODEL_URL,)))
    notifications = app.recorder.select_notifications(start=before + 1, limit=100)
    topics = [n.topic.rsplit(".", 1)[-1] for n in notifications]
    assert sorted(topics) == sorted(
        [
            "TokensReserved",
            "GenerationRequested",
            "ImageLinked",
            "ImageLinked",
            "QueueOpened",
            "GenerationQueued",
        ]
    )
    assert str(receipt.generation_id) in {str(n.originator_id) for n in notifications}


def test_queue_positions_count_everyone_pending(make_app: AppFactory) -> None:
    app = make_app()
    for user in ("alice", "bob"):
        app.open_account(user, 5)
    positions = [
        app.submit_generation(u, generation_request()).queue_position
        for u in ("alice", "bob", "alice")
    ]
    assert positions == [1, 2, 3]


@pytest.mark.parametrize(
    ("setup", "changes", "error"),
    [
        ({}, {"custom_prompt": "explicit pose"}, InvalidRequest),
        ({}, {"model": "dall-e-9"}, ModelUnavailable),
        ({}, {"aspect_ratio": "4:5"}, ModelUnavailable),
        ({}, {"product_images": ("https://example.com/a.jpg",)}, InvalidImages),
        ({"tokens": 1}, {"quality": "high"}, InsufficientTokens),
        ({"queue_capacity": 0}, {}, QueueFull),
        ({"hourly_limit": 1}, {}, RateLimitExceeded),
    ],
)
def test_a_refused_submission_changes_nothing_stored(
    make_app: AppFactory, setup: dict[str, int], changes: dict[str, object], error: type
) -> None:
    policy = {k: v for k, v in setup.items() if k != "tokens"}
    app = make_app(**policy)
    app.open_account("alice", setup.get("tokens", 5))
    if "hourly_limit" in policy:
        app.submit_generation("alice", generation_request())  # uses up the hour
    before = stored_events(app)
    reserved = app.get_account("alice").record.reserved
    with pytest.raises(error):
        app.submit_generation("alice", generation_request(**changes))
    assert stored_events(app) == before
    assert app.get_account("alice").record.reserved == reserved


@pytest.mark.parametrize(
    ("policy", "tokens", "changes", "expected"),
    [
        # Each row breaks every later rule too; the earliest in the contract's order wins.
        (
            {"hourly_limit": 1, "queue_capacity": 1},
            0,
            {"custom_prompt": "violent", "model": "x", "product_images": ("http://x",)},
            InvalidRequest,
        ),
        (
            {"hourly_limit": 1, "queue_capacity": 1},
            0,
            {"model": "x", "product_images": ("http://x",)},
            ModelUnavailable,
        ),
        (
            {"hourly_limit": 1, "queue_capacity": 1},
            0,
            {"product_images": ("http://x",)},
            InvalidImages,
        ),
        ({"hourly_limit": 1, "queue_capacity": 1}, 0, {}, RateLimitExceeded),
        ({"queue_capacity": 1}, 0, {}, InsufficientTokens),
    ],
)
def test_checks_run_in_the_contract_order(
    make_app: AppFactory,
    policy: dict[str, int],
    tokens: int,
    changes: dict[str, object],
    expected: type,
) -> None:
    app = make_app(**policy)
    app.open_account("alice", tokens + 1)
    app.submit_generation(
        "alice", generation_request()
    )  # fills the hour and the queue, spends 1 token
    with pytest.raises(expected):
        app.submit_generation("alice", generation_request(**changes))


class RecordingChecker:
    """An image checker that says which URLs it was asked about."""

    def __init__(self, unreachable: set[str] | None = None) -> None:
        self.asked: list[str] = []
        self.failing = unreachable or set()

    def unreachable(self, images: Sequence[tuple[str, str]]) -> list[FieldProblem]:
        self.asked += [url for _, url in images]
        return [
            FieldProblem(field, "Image could not be reached")
            for field, url in images
            if url in self.failing
        ]


def test_reachability_is_checked_after_the_rate_limit_and_before_tokens(
    make_app: AppFactory,
) -> None:
    checker = RecordingChecker(unreachable={MODEL_URL})
    app = make_app(image_checker=checker, hourly_limit=1)
    app.open_account("alice", 0)
    with pytest.raises(InvalidImages) as caught:
        app.submit_generation("alice", generation_request(model_images=(MODEL_URL,)))
    assert caught.value.problems == [FieldProblem("modelImages.0", "Image could not be reached")]
    assert checker.asked == [PRODUCT_URL, MODEL_URL]


def test_urls_that_fail_the_format_rules_are_never_requested(make_app: AppFactory) -> None:
    checker = RecordingChecker()
    app = make_app(image_checker=checker)
    app.open_account("alice", 5)
    with pytest.raises(InvalidImages):
        app.submit_generation(
            "alice", generation_request(model_images=("https://169.254.169.254/x.jpg",))
        )
    assert checker.asked == []


def test_rate_limited_request_is_not_checked_for_reachability(make_app: AppFactory) -> None:
    checker = RecordingChecker()
    app = make_app(image_checker=checker, hourly_limit=1)
    app.open_account("alice", 5)
    app.submit_generation("alice", generation_request())
    with pytest.raises(RateLimitExceeded):
        app.submit_generation("alice", generation_request(product_images=(MODEL_URL,)))
    assert checker.asked == [PRODUCT_URL]


def test_rate_limit_frees_a_slot_an_hour_after_the_oldest(
    make_app: AppFactory, clock: Clock
) -> None:
    app = make_app(hourly_limit=2)
    app.open_account("alice", 10)
    app.submit_generation("alice", generation_request())
    clock.advance(minutes=20)
    app.submit_generation("alice", generation_request())
    clock.advance(minutes=20)
    with pytest.raises(RateLimitExceeded) as caught:
        app.submit_generation("alice", generation_request())
    assert caught.value.retry_after_seconds == 20 * 60
    clock.advance(minutes=20, seconds=1)
    receipt = app.submit_generation("alice", generation_request())
    assert receipt.rate_limit.remaining == 0
    assert receipt.rate_limit.reset_seconds == 20 * 60 - 1


def test_rate_limit_off_accepts_beyond_any_hourly_count(make_app: AppFactory) -> None:
    app = make_app(hourly_limit=None)
    app.open_account("alice", 100)
    for _ in range(15):
        receipt = app.submit_generation("alice", generation_request())
    assert receipt.rate_limit.limit is None


def test_idempotent_replay_returns_the_original_and_reserves_nothing(
    make_app: AppFactory,
) -> None:
    app = make_app()
    app.open_account("alice", 5)
    first = app.submit_generation("alice", generation_request(), idempotency_key="order-1")
    before = stored_events(app)
    again = app.submit_generation("alice", generation_request(), idempotency_key="order-1")
    assert again.replayed and not first.replayed
    assert (again.generation_id, again.queue_position, again.token_cost) == (
        first.generation_id,
        first.queue_position,
        first.token_cost,
    )
    assert stored_events(app) == before
    assert app.get_account("alice").record.reserved == 1


def test_replay_wins_even_when_limits_would_now_refuse(make_app: AppFactory) -> None:
    app = make_app(hourly_limit=1)
    app.open_account("alice", 1)
    first = app.submit_generation("alice", generation_request(), idempotency_key="k")
    assert app.submit_generation(
        "alice", generation_request(), idempotency_key="k"
    ).generation_id == (first.generation_id)


def test_same_key_with_a_different_request_is_refused(make_app: AppFactory) -> None:
    app = make_app()
    app.open_account("alice", 5)
    app.submit_generation("alice", generation_request(), idempotency_key="k")
    before = stored_events(app)
    with pytest.raises(IdempotencyKeyReused):
        app.submit_generation("alice", generation_request(quality="high"), idempotency_key="k")
    assert stored_events(app) == before


def test_keys_are_scoped_per_user_and_forgotten_after_their_ttl(
    make_app: AppFactory, clock: Clock
) -> None:
    app = make_app()
    app.open_account("alice", 5)
    app.open_account("bob", 5)
    first = app.submit_generation("alice", generation_request(), idempotency_key="k")
    other = app.submit_generation("bob", generation_request(quality="high"), idempotency_key="k")
    assert other.generation_id != first.generation_id and not other.replayed
    clock.advance(days=1, seconds=1)
    later = app.submit_generation("alice", generation_request(), idempotency_key="k")
    assert not later.replayed and later.generation_id != first.generation_id


def test_unknown_and_disabled_accounts_cannot_submit(make_app: AppFactory) -> None:
    app = make_app()
    with pytest.raises(AccountNotFound):
        app.submit_generation("ghost", generation_request())
    app.open_account("alice", 5)
    app.disable_account("alice", "chargeback")
    with pytest.raises(AccountDisabled):
        app.submit_generation("alice", generation_request())


def test_switched_off_generation_refuses_before_anything_else(make_app: AppFactory) -> None:
    app = make_app(generation_enabled=False)
    with pytest.raises(SubmissionsClosed):
        app.submit_generation("ghost", generation_request())


def test_a_generation_is_only_visible_to_its_owner(make_app: AppFactory) -> None:
    app = make_app()
    app.open_account("alice", 5)
    app.open_account("bob", 5)
    receipt = app.submit_generation("alice", generation_request())
    with pytest.raises(GenerationNotFound):
        app.get_generation("bob", receipt.generation_id)
    with pytest.raises(GenerationNotFound):
        app.get_generation("alice", uuid4())
    with pytest.raises(GenerationNotFound):
        app.get_generation("alice", account_id("alice"))
