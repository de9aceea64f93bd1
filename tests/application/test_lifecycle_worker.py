"""One worker iteration (`work_once`): claim, run the generator, record the end it reached."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator

import pytest

from application.ports import GenerationJob, GeneratorFailure, StopSignal
from application.service import Atelier
from application.work import UNEXPECTED_GENERATOR_ERROR, UNUSABLE_RESULTS
from domain.circuit import FAILURE_THRESHOLD, OPEN_FOR
from domain.results import ResultImage
from infrastructure.generators.dry_run import DryRunGenerator
from tests.conftest import SettingsFactory
from tests.support.builders import PRODUCT_URL
from tests.support.clock import Clock
from tests.support.lifecycle import (
    account,
    event_names,
    generation,
    submit,
    wired_application,
)

LEASE = 600


class ScriptedGenerator:
    """Answers with what the test scripted, and remembers the jobs it was given."""

    name = "scripted"

    def __init__(self, run: Callable[[GenerationJob], list[str]]) -> None:
        self.run = run
        self.jobs: list[GenerationJob] = []

    def generate(self, job: GenerationJob, stop: StopSignal) -> list[ResultImage]:
        self.jobs.append(job)
        return [ResultImage.of_url(url) for url in self.run(job)]


@pytest.fixture
def app(make_settings: SettingsFactory, clock: Clock) -> Iterator[Atelier]:
    with wired_application(make_settings(lease_seconds=LEASE), clock) as atelier:
        atelier.open_account("alice", 10)
        yield atelier


def test_a_generation_the_generator_completes_is_completed_and_charged(
    app: Atelier, clock: Clock
) -> None:
    gid = submit(app, "alice", quality="high", aspect_ratio="16:9", custom_prompt="on a beach")
    generator = ScriptedGenerator(lambda job: ["https://cdn.example.com/r/1.png"])

    outcome = app.work_once("worker-7", generator)

    assert outcome is not None
    assert (outcome.generation_id, outcome.status, outcome.error) == (gid, "completed", None)
    assert outcome.result_images == ["https://cdn.example.com/r/1.png"]
    (job,) = generator.jobs
    stored = generation(app, gid)
    assert job.prompt == stored.prompt and "on a beach" in job.prompt
    assert (job.aspect_ratio, job.quality, job.model) == ("16:9", "high", "gpt-4.1-dalle-3")
    assert job.product_images == (PRODUCT_URL,)
    assert (job.lease_expires_at - clock.now).total_seconds() == LEASE
    assert stored.worker_id == "worker-7"
    held = account(app, "alice")
    assert (held.balance, held.reserved) == (8, 0)


def give_up(job: GenerationJob) -> list[str]:
    raise GeneratorFailure("Image generation failed: OpenAI server error (HTTP 500).")


def crash(job: GenerationJob) -> list[str]:
    raise KeyError("internal detail /etc/secret")


def unusable(job: GenerationJob) -> list[str]:
    return ["http://plain-http.example/r.png"]


@pytest.mark.parametrize(
    ("run", "recorded"),
    [
        pytest.param(
            give_up,
            "Image generation failed: OpenAI server error (HTTP 500).",
            id="gives-up-with-its-reason",
        ),
        pytest.param(crash, UNEXPECTED_GENERATOR_ERROR, id="unexpected-error-not-leaked"),
        pytest.param(unusable, UNUSABLE_RESULTS, id="unusable-results"),
    ],
)
def test_a_failing_generator_fails_the_generation_and_releases_its_tokens(
    app: Atelier, run: Callable[[GenerationJob], list[str]], recorded: str
) -> None:
    gid = submit(app, "alice")
    outcome = app.work_once("worker-1", ScriptedGenerator(run))
    assert outcome is not None and outcome.status == "failed"
    assert generation(app, gid).error == recorded
    assert account(app, "alice").available == 10


def upstream_down(job: GenerationJob) -> list[str]:
    raise GeneratorFailure("Image generation failed: OpenAI server error.", upstream=True)


def test_five_upstream_failures_open_the_circuit_and_the_worker_claims_nothing(
    app: Atelier, clock: Clock
) -> None:
    for _ in range(FAILURE_THRESHOLD):
        submit(app, "alice")
    waiting = submit(app, "alice")
    failing = ScriptedGenerator(upstream_down)
    failing.name = "openai"
    for n in range(FAILURE_THRESHOLD):
        assert app.generator_circuit("openai") == "closed", n
        assert app.work_once("worker-1", failing) is not None
    assert app.generator_circuit("openai") == "open"

    healthy = ScriptedGenerator(lambda job: ["https://cdn.example.com/r/1.png"])
    healthy.name = "openai"
    assert app.work_once("worker-1", healthy) is None  # open: nothing claimed
    assert healthy.jobs == []
    assert generation(app, waiting).status == "pending"

    clock.advance(seconds=OPEN_FOR.total_seconds())
    assert app.generator_circuit("openai") == "half-open"
    others: list[object] = []

    def trial(job: GenerationJob) -> list[str]:
        # While this trial runs, any other worker of the store claims nothing.
        others.append(app.work_once("worker-1", healthy, "worker-1#1"))
        return ["https://cdn.example.com/r/1.png"]

    trying = ScriptedGenerator(trial)
    trying.name = "openai"
    outcome = app.work_once("worker-2", trying, "worker-2#1")
    assert outcome is not None and outcome.status == "completed"
    assert others == [None]
    assert app.generator_circuit("openai") == "closed"


def test_a_failed_trial_opens_the_circuit_again_and_a_success_closes_it(
    app: Atelier, clock: Clock
) -> None:
    for _ in range(FAILURE_THRESHOLD + 2):
        submit(app, "alice")
    failing = ScriptedGenerator(upstream_down)
    failing.name = "openai"
    for _ in range(FAILURE_THRESHOLD):
        app.work_once("worker-1", failing)
    clock.advance(seconds=OPEN_FOR.total_seconds())
    assert app.work_once("worker-1", failing) is not None  # the trial fails
    assert app.generator_circuit("openai") == "open"

    clock.advance(seconds=OPEN_FOR.total_seconds())
    healthy = ScriptedGenerator(lambda job: ["https://cdn.example.com/r/1.png"])
    healthy.name = "openai"
    outcome = app.work_once("worker-1", healthy)
    assert outcome is not None and outcome.status == "completed"
    assert app.generator_circuit("openai") == "closed"


def test_a_refusal_of_the_request_is_no_upstream_failure(app: Atelier) -> None:
    for _ in range(FAILURE_THRESHOLD):
        submit(app, "alice")
    refusing = ScriptedGenerator(give_up)  # GeneratorFailure without upstream=True
    refusing.name = "openai"
    for _ in range(FAILURE_THRESHOLD):
        app.work_once("worker-1", refusing)
    assert app.generator_circuit("openai") == "closed"


def test_an_empty_queue_gives_no_work(app: Atelier) -> None:
    generator = ScriptedGenerator(lambda job: ["https://cdn.example.com/r/1.png"])
    assert app.work_once("worker-1", generator) is None
    assert generator.jobs == []


def test_results_that_arrive_after_the_lease_are_refused_and_nothing_is_recorded(
    app: Atelier, clock: Clock
) -> None:
    """API.md: a late report changes nothing; the sweeper requeues or times the lease out."""
    gid = submit(app, "alice")

    def slow(job: GenerationJob) -> list[str]:
        clock.advance(seconds=LEASE + 1)
        return ["https://cdn.example.com/r/1.png"]

    outcome = app.work_once("worker-1", ScriptedGenerator(slow))

    assert outcome is not None
    assert (outcome.generation_id, outcome.status, outcome.error) == (gid, "processing", None)
    assert generation(app, gid).result_images == []
    assert account(app, "alice").reserved == 1
    assert event_names(app, gid)[-1] == "GenerationStarted"


@pytest.fixture
def beating(make_settings: SettingsFactory, clock: Clock) -> Iterator[Atelier]:
    """A lease of 3 s: the worker heartbeats every second of real time."""
    with wired_application(make_settings(lease_seconds=3), clock) as atelier:
        atelier.open_account("alice", 10)
        yield atelier


def test_the_worker_heartbeats_its_lease_while_the_generator_runs(beating: Atelier) -> None:
    gid = submit(beating, "alice")

    def until_a_heartbeat(job: GenerationJob) -> list[str]:
        deadline = time.monotonic() + 20
        while "LeaseExtended" not in event_names(beating, gid) and time.monotonic() < deadline:
            time.sleep(0.05)
        return ["https://cdn.example.com/r/1.png"]

    outcome = beating.work_once("worker-1", ScriptedGenerator(until_a_heartbeat))

    assert outcome is not None and outcome.status == "completed"
    assert "LeaseExtended" in event_names(beating, gid)


def test_a_generation_cancelled_while_it_runs_stops_and_records_no_result(
    beating: Atelier,
) -> None:
    gid = submit(beating, "alice")

    def cancelled_meanwhile(job: GenerationJob) -> list[str]:
        beating.cancel("alice", gid)
        time.sleep(2.5)  # the next heartbeat (every second) learns it
        return ["https://cdn.example.com/r/1.png"]

    outcome = beating.work_once("worker-1", ScriptedGenerator(cancelled_meanwhile))

    assert outcome is not None
    assert (outcome.status, outcome.result_images) == ("cancelled", [])
    assert event_names(beating, gid)[-1] == "ProcessingCancelled"
    held = account(beating, "alice")
    assert (held.balance, held.reserved) == (10, 0)


def test_the_dry_run_stand_in_completes_with_cloudinary_transformations(app: Atelier) -> None:
    gid = submit(app, "alice", aspect_ratio="2:3", style="minimal")

    outcome = app.work_once("worker-1", DryRunGenerator())

    assert outcome is not None and outcome.status == "completed"
    (url,) = generation(app, gid).result_images
    assert url.startswith("https://res.cloudinary.com/demo/image/upload/c_fill,g_auto,ar_2:3,")
    assert "DRY-RUN" in url
    assert url.endswith("/shirts/blue-oxford.jpg")
