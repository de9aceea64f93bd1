"""Generation's state machine as a table over every (state, command) pair, read from API.md.

pending -> processing (a claim) -> completed | failed | failed "timed out" (the lease ran out);
pending -> cancelled (its owner) | expired (PENDING_TTL_SECONDS); every other pair is
409 INVALID_STATE: the aggregate raises InvalidTransition, records no event and stays as it was.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from uuid import uuid4

import pytest

from domain.errors import InvalidTransition
from domain.generations import TIMED_OUT, Generation
from domain.images import link_images
from tests.support.builders import generation_request
from tests.support.clock import T0

LATER = T0 + timedelta(minutes=1)
LEASE_END = T0 + timedelta(minutes=10)
RESULT = "https://cdn.example/r.png"

Command = Callable[[Generation], None]
COMMANDS: dict[str, Command] = {
    "claim": lambda g: g.start("w1", LEASE_END, LATER),
    "complete": lambda g: g.complete([RESULT], LATER),
    "fail": lambda g: g.fail("model error", LATER),
    "time out": lambda g: g.fail(TIMED_OUT, LATER),
    "cancel": lambda g: g.cancel(LATER),
    "expire": lambda g: g.expire(LATER),
}
# How each state is reached from a new request.
PATHS: dict[str, list[str]] = {
    "pending": [],
    "processing": ["claim"],
    "completed": ["claim", "complete"],
    "failed": ["claim", "fail"],
    "cancelled": ["cancel"],
    "expired": ["expire"],
}
END_STATES = ("completed", "failed", "cancelled", "expired")
REFUSED = None
# (state, command) -> (status after, event recorded), or REFUSED.
TABLE: dict[tuple[str, str], tuple[str, str] | None] = {
    ("pending", "claim"): ("processing", "GenerationStarted"),
    ("pending", "complete"): REFUSED,
    ("pending", "fail"): REFUSED,
    ("pending", "time out"): REFUSED,
    ("pending", "cancel"): ("cancelled", "GenerationCancelled"),
    ("pending", "expire"): ("expired", "GenerationExpired"),
    ("processing", "claim"): REFUSED,  # two workers never get the same one
    ("processing", "complete"): ("completed", "GenerationCompleted"),
    ("processing", "fail"): ("failed", "GenerationFailed"),
    ("processing", "time out"): ("failed", "GenerationFailed"),
    ("processing", "cancel"): ("cancelled", "GenerationCancelled"),
    ("processing", "expire"): REFUSED,  # only a pending one waits for a worker
    # An end state is final: every command is refused.
    **{(end, command): REFUSED for end in END_STATES for command in COMMANDS},
}
# API.md lets an owner cancel a processing generation; the domain refuses it today, so this pair
# is expected to fail until it does (strict: the day it passes, drop it from here).
NOT_YET = {("processing", "cancel")}


def requested() -> Generation:
    request = generation_request(
        model_images=("https://res.cloudinary.com/demo/image/upload/m.png",)
    )
    images = link_images(request.product_images, request.model_images)
    return Generation.request(uuid4(), "alice", request, None, "prompt", 1, 1, images, T0)


def in_state(state: str) -> Generation:
    generation = requested()
    for step in PATHS[state]:
        COMMANDS[step](generation)
    assert generation.status == state
    generation.collect_events()
    return generation


def table_cases() -> list[object]:
    return [
        pytest.param(
            state,
            command,
            marks=[
                pytest.mark.xfail(
                    raises=InvalidTransition, strict=True, reason="API.md: processing -> cancelled"
                )
            ]
            if (state, command) in NOT_YET
            else [],
            id=f"{state}-{command.replace(' ', '_')}",
        )
        for state in PATHS
        for command in COMMANDS
    ]


def test_the_table_covers_every_pair() -> None:
    assert set(TABLE) == {(state, command) for state in PATHS for command in COMMANDS}


@pytest.mark.parametrize(("state", "command"), table_cases())
def test_each_command_in_each_state(state: str, command: str) -> None:
    generation = in_state(state)
    expected = TABLE[(state, command)]
    if expected is REFUSED:
        with pytest.raises(InvalidTransition, match=f"Generation is {state}"):
            COMMANDS[command](generation)
        assert generation.status == state
        assert generation.collect_events() == []
        return
    COMMANDS[command](generation)
    status, event = expected
    assert generation.status == status
    assert [type(e).__name__ for e in generation.collect_events()] == [event]
    assert generation.updated_at == LATER
    assert generation.has_ended == (status != "processing")


@pytest.mark.parametrize(
    ("command", "field", "value"),
    [
        ("claim", "worker_id", "w1"),
        ("claim", "lease_expires_at", LEASE_END),
        ("claim", "started_at", LATER),
        ("complete", "result_images", [RESULT]),
        ("complete", "completed_at", LATER),
        ("complete", "lease_expires_at", None),
        ("fail", "error", "model error"),
        ("fail", "lease_expires_at", None),
        ("time out", "error", "timed out"),
        ("cancel", "completed_at", LATER),
        ("expire", "completed_at", LATER),
    ],
)
def test_an_allowed_command_records_what_the_contract_shows(
    command: str, field: str, value: object
) -> None:
    generation = in_state(
        "processing" if command in ("complete", "fail", "time out") else "pending"
    )
    COMMANDS[command](generation)
    assert getattr(generation, field) == value


def test_request_records_one_image_linked_event_per_image() -> None:
    generation = requested()
    names = [type(e).__name__ for e in generation.collect_events()]
    assert names == ["GenerationRequested", "ImageLinked", "ImageLinked"]
    assert generation.images[0] == {
        "url": "https://res.cloudinary.com/demo/image/upload/c_fill,w_400,h_600/v1699/shirts/blue-oxford.jpg",
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


@pytest.mark.parametrize(
    ("state", "now", "lease_ran_out", "waited"),
    [
        ("pending", T0, False, True),
        ("pending", T0 - timedelta(seconds=1), False, False),
        ("processing", LEASE_END - timedelta(seconds=1), False, False),
        ("processing", LEASE_END, True, False),
        ("completed", LEASE_END, False, False),
        ("cancelled", LEASE_END, False, False),
    ],
)
def test_time_limits_apply_only_to_their_state(
    state: str, now: datetime, lease_ran_out: bool, waited: bool
) -> None:
    """A lease runs out only while processing (then it may be timed out); a wait counts only
    while pending (then it may be expired)."""
    generation = in_state(state)
    assert generation.lease_ran_out(now) is lease_ran_out
    assert generation.waited_since(now) is waited
