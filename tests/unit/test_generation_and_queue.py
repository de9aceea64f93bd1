"""Generation's state machine and images, and the queue's capacity rule."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from uuid import uuid4

import pytest

from domain.errors import InvalidTransition, QueueFull
from domain.generations import Generation
from domain.images import link_images
from domain.queue import GenerationQueue
from domain.requests import GenerationRequest

T0 = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)
URL = "https://res.cloudinary.com/demo/image/upload/c_fill,w_400,h_600/v1699/shirts/blue-oxford.jpg"
MODEL_URL = "https://res.cloudinary.com/demo/image/upload/model.png"


def requested() -> Generation:
    request = GenerationRequest(
        product_images=(URL,),
        model_images=(MODEL_URL,),
        style="minimal",
        aspect_ratio="1:1",
        quality="high",
        model="gpt-4.1-dalle-3",
    )
    images = link_images(request.product_images, request.model_images)
    return Generation.request(uuid4(), "alice", request, None, "prompt", 2, 1, images, T0)


def test_request_records_one_image_linked_event_per_image() -> None:
    generation = requested()
    names = [type(e).__name__ for e in generation.collect_events()]
    assert names == ["GenerationRequested", "ImageLinked", "ImageLinked"]
    assert generation.images[0] == {
        "url": URL,
        "role": "product",
        "order": 0,
        "isPrimary": True,
        "publicId": "shirts/blue-oxford",
        "format": "jpg",
        "width": 400,
        "height": 600,
    }
    assert generation.images[1]["role"] == "model"
    assert generation.status == "pending"


def test_happy_path_pending_processing_completed() -> None:
    generation = requested()
    generation.start("w1", T0 + timedelta(minutes=10), T0)
    assert (generation.status, generation.worker_id) == ("processing", "w1")
    generation.complete(["https://cdn.example/r.png"], T0 + timedelta(minutes=1))
    assert generation.status == "completed"
    assert generation.result_images == ["https://cdn.example/r.png"]


@pytest.mark.parametrize(
    ("setup", "command"),
    [
        ([], "complete"),
        ([], "fail"),
        (["start"], "cancel"),
        (["start"], "expire"),
        (["start"], "start"),
        (["start", "complete"], "fail"),
        (["start", "fail"], "complete"),
        (["cancel"], "start"),
        (["cancel"], "cancel"),
        (["expire"], "cancel"),
    ],
)
def test_illegal_transitions_are_refused(setup: list[str], command: str) -> None:
    generation = requested()
    actions = {
        "start": lambda: generation.start("w", T0, T0),
        "complete": lambda: generation.complete(["https://x/y.png"], T0),
        "fail": lambda: generation.fail("boom", T0),
        "cancel": lambda: generation.cancel(T0),
        "expire": lambda: generation.expire(T0),
    }
    for step in setup:
        actions[step]()
    status = generation.status
    with pytest.raises(InvalidTransition):
        actions[command]()
    assert generation.status == status


def test_queue_admits_up_to_capacity_with_exact_positions() -> None:
    queue = GenerationQueue()
    positions = [queue.admit(uuid4(), capacity=3, at=T0) for _ in range(3)]
    assert positions == [1, 2, 3]
    with pytest.raises(QueueFull):
        queue.admit(uuid4(), capacity=3, at=T0)
    queue.leave(uuid4(), "claimed", T0)
    assert queue.admit(uuid4(), capacity=3, at=T0) == 3


def test_empty_queue_has_nothing_to_leave() -> None:
    with pytest.raises(InvalidTransition):
        GenerationQueue().leave(uuid4(), "claimed", T0)
