"""Generation's state machine as a table over every (state, command) pair, read from API.md.

pending -> processing (a claim) -> completed | failed by the lease holder; a lease that ran out
-> pending again (requeued) or, after the last attempt, failed "timed out"; pending or
processing -> cancelled (its owner); pending -> expired (PENDING_TTL_SECONDS). Every other pair,
and any worker's report but the lease holder's in time, is 409 INVALID_STATE: the aggregate
raises InvalidTransition, records no event and stays as it was.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from uuid import uuid4

import pytest

from domain.errors import InvalidTransition
from domain.generations import TIMED_OUT, Generation
from domain.images import link_images
from domain.results import ResultImage
from tests.support.builders import generation_request
from tests.support.clock import T0

LATER = T0 + timedelta(minutes=1)
LEASE_END = T0 + timedelta(minutes=10)
EXTENDED = LATER + timedelta(minutes=10)
RESULT = "https://cdn.example/r.png"
RESULT_IMAGE = ResultImage.of_url(RESULT)

Command = Callable[[Generation], object]
COMMANDS: dict[str, Command] = {
    "claim": lambda g: g.start("w1", LEASE_END, LATER),
    "heartbeat": lambda g: g.extend_lease("w1", EXTENDED, LATER),
    "complete": lambda g: g.complete("w1", [RESULT_IMAGE], LATER),
    "fail": lambda g: g.fail("w1", "model error", LATER),
    "requeue": lambda g: g.time_out(LEASE_END, max_attempts=2),
    "time out": lambda g: g.time_out(LEASE_END, max_attempts=1),
    "cancel": lambda g: g.cancel(LATER),
    "expire": lambda g: g.expire(LATER),
}
# When each command happens, if not LATER: a lease is timed out once it has run out.
AT = {"requeue": LEASE_END, "time out": LEASE_END}
# Commands that only the lease holder may give, in time: refused to anyone else or too late.
FENCED: dict[str, Command] = {
    "heartbeat": lambda g: g.extend_lease("w2", EXTENDED, LATER),
    "complete": lambda g: g.complete("w2", [RESULT_IMAGE], LATER),
    "fail": lambda g: g.fail("w2", "model error", LATER),
    "late heartbeat": lambda g: g.extend_lease("w1", EXTENDED, LEASE_END),
    "late complete": lambda g: g.complete("w1", [RESULT_IMAGE], LEASE_END),
    "late fail": lambda g: g.fail("w1", "model error", LEASE_END),
    "time out early": lambda g: g.time_out(LATER, max_attempts=1),
}
# How each state is reached from a new request.
PATHS: dict[str, list[str]] = {
    "pending": [],
    "processing": ["claim"],
    "completed": ["claim", "complete"],
    "failed": ["claim", "fail"],
    "requeued": ["claim", "requeue"],
    "cancelled": ["cancel"],
    "expired": ["expire"],
}
END_STATES = ("completed", "failed", "cancelled", "expired")
REFUSED = None
# (state, command) -> (status after, event recorded), or REFUSED.
TABLE: dict[tuple[str, str], tuple[str, str] | None] = {
    ("pending", "claim"): ("processing", "GenerationStarted"),
    ("pending", "heartbeat"): REFUSED,
    ("pending", "complete"): REFUSED,
    ("pending", "fail"): REFUSED,
    ("pending", "requeue"): REFUSED,
    ("pending", "time out"): REFUSED,
    ("pending", "cancel"): ("cancelled", "GenerationCancelled"),
    ("pending", "expire"): ("expired", "GenerationExpired"),
    ("processing", "claim"): REFUSED,  # two workers never get the same one
    ("processing", "heartbeat"): ("processing", "LeaseExtended"),
    ("processing", "complete"): ("completed", "GenerationCompleted"),
    ("processing", "fail"): ("failed", "GenerationFailed"),
    ("processing", "requeue"): ("pending", "GenerationRequeued"),
    ("processing", "time out"): ("failed", "GenerationFailed"),
    ("processing", "cancel"): ("cancelled", "ProcessingCancelled"),
    ("processing", "expire"): REFUSED,  # only a pending one waits for a worker
    # An end state is final: every command is refused.
    **{(end, command): REFUSED for end in END_STATES for command in COMMANDS},
}
# Requeued, it is pending again: claimed a second time, cancelled or expired like any other.
TABLE.update({("requeued", command): TABLE[("pending", command)] for command in COMMANDS})


def requested() -> Generation:
    request = generation_request(
        model_images=("https://res.cloudinary.com/demo/image/upload/m.png",)
    )
    images = link_images(request.product_images, request.model_images)
    return Generation.request(uuid4(), "alice", request, None, "prompt", 1, 1, images, T0)


def status_of(state: str) -> str:
    return "pending" if state == "requeued" else state


def in_state(state: str) -> Generation:
    generation = requested()
    for step in PATHS[state]:
        COMMANDS[step](generation)
    assert generation.status == status_of(state)
    generation.collect_events()
    return generation


def test_the_table_covers_every_pair() -> None:
    assert set(TABLE) == {(state, command) for state in PATHS for command in COMMANDS}


@pytest.mark.parametrize(
    ("state", "command"),
    [
        pytest.param(state, command, id=f"{state}-{command.replace(' ', '_')}")
        for state in PATHS
        for command in COMMANDS
    ],
)
def test_each_command_in_each_state(state: str, command: str) -> None:
    generation = in_state(state)
    expected = TABLE[(state, command)]
    if expected is REFUSED:
        with pytest.raises(InvalidTransition, match=f"Generation is {status_of(state)}"):
            COMMANDS[command](generation)
        assert generation.status == status_of(state)
        assert generation.collect_events() == []
        return
    updated_before = generation.updated_at
    COMMANDS[command](generation)
    status, event = expected
    assert generation.status == status
    names = [type(e).__name__ for e in generation.collect_events()]
    linked = ["ImageLinked"] if command == "complete" else []  # its result, linked first
    assert names == [*linked, event]
    if command == "heartbeat":  # the lease alone: nothing the owner sees changes
        assert generation.updated_at == updated_before
    else:
        assert generation.updated_at == AT.get(command, LATER)
    assert generation.has_ended == (status not in ("pending", "processing"))


@pytest.mark.parametrize("command", FENCED)
def test_only_the_lease_holder_in_time_may_report_and_a_lease_times_out_only_once_run_out(
    command: str,
) -> None:
    generation = in_state("processing")
    with pytest.raises(InvalidTransition):
        FENCED[command](generation)
    assert (generation.status, generation.worker_id) == ("processing", "w1")
    assert generation.lease_expires_at == LEASE_END
    assert generation.collect_events() == []


def test_each_claim_is_one_more_attempt_and_a_requeue_frees_the_lease() -> None:
    generation = in_state("requeued")
    assert (generation.attempt, generation.worker_id, generation.lease_expires_at) == (
        1,
        None,
        None,
    )
    assert generation.started_at is None
    COMMANDS["claim"](generation)
    assert generation.attempt == 2
    assert generation.time_out(LEASE_END, max_attempts=2) is False
    assert (generation.status, generation.error) == ("failed", TIMED_OUT)


def test_a_processing_cancel_is_told_to_its_worker_alone() -> None:
    generation = in_state("processing")
    generation.cancel(LATER)
    assert generation.was_cancelled_under("w1")
    assert not generation.was_cancelled_under("w2")
    assert generation.lease_expires_at is None
    with pytest.raises(InvalidTransition, match="Generation is cancelled"):
        generation.complete("w1", [RESULT_IMAGE], LATER)


@pytest.mark.parametrize(
    ("command", "field", "value"),
    [
        ("claim", "worker_id", "w1"),
        ("claim", "lease_expires_at", LEASE_END),
        ("claim", "started_at", LATER),
        ("claim", "attempt", 1),
        ("heartbeat", "lease_expires_at", EXTENDED),
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
        "processing" if command in ("heartbeat", "complete", "fail", "time out") else "pending"
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
