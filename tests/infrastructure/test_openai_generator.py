"""The OpenAI adapter against a fake Images API on 127.0.0.1 (never the real one)."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import httpx
import pytest

from application.ports import GeneratorFailure
from infrastructure.generators import build_generator
from infrastructure.generators.circuit_breaker import CircuitBreaker
from infrastructure.generators.dry_run import DryRunGenerator
from infrastructure.generators.openai import (
    MALFORMED,
    UNAVAILABLE,
    OpenAIImageGenerator,
    request_body,
)
from infrastructure.settings import SettingsError, load_settings
from tests.support.builders import generation_job
from tests.support.clock import T0, Clock
from tests.support.fake_openai import FakeOpenAI, Reply, error, images

API_KEY = "sk-test-not-a-real-key-0123456789"
RESULT = "https://oaidalleapiprodscus.blob.core.windows.net/private/img-1.png"


@pytest.fixture
def fake() -> Iterator[FakeOpenAI]:
    with FakeOpenAI().running() as server:
        yield server


@pytest.fixture
def breaker_clock() -> Clock:
    return Clock()


@pytest.fixture
def sleeps() -> list[float]:
    return []


@pytest.fixture
def generator(
    fake: FakeOpenAI, breaker_clock: Clock, sleeps: list[float]
) -> Iterator[OpenAIImageGenerator]:
    adapter = OpenAIImageGenerator(
        API_KEY,
        fake.base_url,
        breaker=CircuitBreaker(clock=breaker_clock.monotonic),
        timeout=httpx.Timeout(0.5),
        sleep=sleeps.append,  # record the backoff instead of waiting it out
        clock=lambda: T0,
    )
    yield adapter
    adapter.close()


def test_a_generation_becomes_one_images_api_call(
    fake: FakeOpenAI, generator: OpenAIImageGenerator
) -> None:
    fake.will_answer(images(RESULT))

    urls = generator.generate(generation_job(quality="high", aspect_ratio="9:16", style="artistic"))

    assert urls == [RESULT]
    (call,) = fake.requests
    assert call.path == "/v1/images/generations"
    assert call.headers["Authorization"] == f"Bearer {API_KEY}"
    assert call.body == {
        "model": "dall-e-3",
        "prompt": "Professional fashion photograph, realistic style",
        "n": 1,
        "size": "1024x1792",
        "quality": "hd",
        "style": "vivid",
        "response_format": "url",
    }


@pytest.mark.parametrize(
    ("aspect_ratio", "size"),
    [
        ("1:1", "1024x1024"),
        ("16:9", "1792x1024"),
        ("3:2", "1792x1024"),
        ("9:16", "1024x1792"),
        ("2:3", "1024x1792"),
    ],
)
def test_size_follows_the_aspect_ratio(aspect_ratio: str, size: str) -> None:
    assert request_body(generation_job(aspect_ratio=aspect_ratio))["size"] == size


@pytest.mark.parametrize(
    ("quality", "expected"), [("standard", "standard"), ("high", "hd"), ("ultra", "hd")]
)
def test_quality_maps_to_the_apis_quality(quality: str, expected: str) -> None:
    assert request_body(generation_job(quality=quality))["quality"] == expected


def test_an_unknown_model_is_refused_without_a_call(
    fake: FakeOpenAI, generator: OpenAIImageGenerator
) -> None:
    with pytest.raises(GeneratorFailure, match="not available from OpenAI"):
        generator.generate(generation_job(model="some-other-model"))
    assert fake.requests == []


def test_a_rate_limit_is_retried_after_the_time_it_asks_for(
    fake: FakeOpenAI, generator: OpenAIImageGenerator, sleeps: list[float]
) -> None:
    fake.will_answer(error(429, "Rate limit reached", **{"Retry-After": "7"}), images(RESULT))

    assert generator.generate(generation_job()) == [RESULT]

    assert len(fake.requests) == 2
    assert len(sleeps) == 1 and 7 <= sleeps[0] <= 30


def test_server_errors_are_retried_with_growing_backoff_then_given_up(
    fake: FakeOpenAI, generator: OpenAIImageGenerator, sleeps: list[float]
) -> None:
    fake.will_answer(*[error(500)] * 4)

    with pytest.raises(GeneratorFailure) as failure:
        generator.generate(generation_job())

    assert failure.value.reason == (
        "Image generation failed: OpenAI server error (HTTP 500) (after 4 attempts)."
    )
    assert len(fake.requests) == 4
    assert len(sleeps) == 3
    # Full ceiling doubles (2, 4, 8 s) and each wait is at least half of its ceiling.
    for wait, ceiling in zip(sleeps, (2.0, 4.0, 8.0), strict=True):
        assert ceiling / 2 <= wait <= ceiling
    assert API_KEY not in failure.value.reason


def test_a_server_error_then_success_completes(
    fake: FakeOpenAI, generator: OpenAIImageGenerator
) -> None:
    fake.will_answer(error(502), error(503), images(RESULT, RESULT.replace("1", "2")))
    assert len(generator.generate(generation_job())) == 2
    assert generator.breaker.failures == 0  # a success closes and resets


def test_an_upstream_that_does_not_answer_in_time_is_retried_then_given_up(
    fake: FakeOpenAI, generator: OpenAIImageGenerator
) -> None:
    fake.will_answer(*[Reply(200, b"{}", hang_seconds=5)] * 4)

    with pytest.raises(GeneratorFailure) as failure:
        generator.generate(generation_job())

    assert "OpenAI did not answer in time" in failure.value.reason
    assert len(fake.requests) == 4


def test_an_unreachable_upstream_is_a_clear_failure(
    breaker_clock: Clock, sleeps: list[float]
) -> None:
    with socket.socket() as probe:  # a port with nobody listening
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    adapter = OpenAIImageGenerator(
        API_KEY, f"http://127.0.0.1:{port}/v1", max_attempts=2, sleep=sleeps.append
    )
    with pytest.raises(GeneratorFailure, match="OpenAI could not be reached"):
        adapter.generate(generation_job())
    adapter.close()


@pytest.mark.parametrize(
    "reply",
    [
        Reply(200, b"<html>gateway</html>"),
        Reply(200, b'{"data": []}'),
        Reply(200, b'{"data": [{"b64_json": "AAAA"}]}'),
        Reply(200, b'{"data": [{"url": "http://insecure.example/x.png"}]}'),
        Reply(200, b'["not", "an", "object"]'),
    ],
    ids=["not-json", "no-images", "no-url", "not-https", "not-an-object"],
)
def test_a_malformed_answer_fails_without_retrying(
    fake: FakeOpenAI, generator: OpenAIImageGenerator, reply: Reply
) -> None:
    fake.will_answer(reply, images(RESULT))
    with pytest.raises(GeneratorFailure) as failure:
        generator.generate(generation_job())
    assert failure.value.reason == MALFORMED
    assert len(fake.requests) == 1  # a 200 may have been billed: never asked twice


def test_a_refused_request_is_not_retried_and_says_why(
    fake: FakeOpenAI, generator: OpenAIImageGenerator
) -> None:
    fake.will_answer(error(400, "Your request was rejected by the safety system."))
    with pytest.raises(GeneratorFailure) as failure:
        generator.generate(generation_job())
    assert failure.value.reason == (
        "Image generation failed: OpenAI refused the request: "
        "Your request was rejected by the safety system."
    )
    assert len(fake.requests) == 1
    assert generator.breaker.state == "closed"


def test_rejected_credentials_never_echo_the_upstreams_message(
    fake: FakeOpenAI, generator: OpenAIImageGenerator
) -> None:
    fake.will_answer(error(401, f"Incorrect API key provided: {API_KEY[:10]}****"))
    with pytest.raises(GeneratorFailure) as failure:
        generator.generate(generation_job())
    assert failure.value.reason == (
        "Image generation failed: OpenAI refused the service's credentials (HTTP 401)."
    )


def test_no_retry_that_would_outlast_the_lease(
    fake: FakeOpenAI, generator: OpenAIImageGenerator, sleeps: list[float]
) -> None:
    fake.will_answer(error(503), images(RESULT))
    with pytest.raises(GeneratorFailure, match="no time left on the lease"):
        generator.generate(generation_job(lease_expires_at=T0 + timedelta(seconds=1)))
    assert len(fake.requests) == 1
    assert sleeps == []


def test_the_circuit_breaker_stops_calling_a_failing_upstream_then_tries_again(
    fake: FakeOpenAI, generator: OpenAIImageGenerator, breaker_clock: Clock
) -> None:
    fake.will_answer(*[error(500)] * 5)

    with pytest.raises(GeneratorFailure, match="after 4 attempts"):
        generator.generate(generation_job())  # 4 failures: still closed
    assert generator.is_available()
    with pytest.raises(GeneratorFailure) as tripped:
        generator.generate(generation_job())  # the 5th failure opens it; the retry is refused
    assert tripped.value.reason == UNAVAILABLE
    assert len(fake.requests) == 5

    assert not generator.is_available()  # a worker stops claiming
    with pytest.raises(GeneratorFailure, match="circuit breaker open"):
        generator.generate(generation_job())
    breaker_clock.advance(seconds=59)
    with pytest.raises(GeneratorFailure, match="circuit breaker open"):
        generator.generate(generation_job())
    assert len(fake.requests) == 5  # the upstream was left alone

    breaker_clock.advance(seconds=1)  # 60 s after the last failure: half-open, one trial
    assert generator.is_available()
    fake.will_answer(images(RESULT))
    assert generator.generate(generation_job()) == [RESULT]
    assert generator.breaker.state == "closed"
    assert len(fake.requests) == 6


def test_a_failed_trial_opens_the_breaker_for_another_minute(
    fake: FakeOpenAI, generator: OpenAIImageGenerator, breaker_clock: Clock
) -> None:
    fake.will_answer(*[error(500)] * 6)
    for _ in range(2):
        with pytest.raises(GeneratorFailure):
            generator.generate(generation_job())
    breaker_clock.advance(seconds=60)
    with pytest.raises(GeneratorFailure) as trial:
        generator.generate(generation_job())  # the trial fails; its retry meets an open breaker
    assert trial.value.reason == UNAVAILABLE
    assert len(fake.requests) == 6
    assert generator.breaker.state == "open"
    breaker_clock.advance(seconds=59)
    assert not generator.is_available()


def test_build_generator_needs_an_api_key_for_openai(tmp_path: Any) -> None:
    with pytest.raises(SettingsError, match="OPENAI_API_KEY"):
        build_generator(load_settings(data_dir=tmp_path, generator="openai", openai_api_key=""))
    built = build_generator(
        load_settings(data_dir=tmp_path, generator="openai", openai_api_key="k")
    )
    assert isinstance(built, OpenAIImageGenerator)
    built.close()
    assert isinstance(build_generator(load_settings(data_dir=tmp_path)), DryRunGenerator)
