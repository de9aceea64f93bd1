"""The OpenAI adapter against local fakes of OpenAI's Images API and of Cloudinary (never the real
services): the photos in (bytes compared), durable results out, retries, refusals, cancels."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from application.ports import GenerationJob, GeneratorFailure, WorkStopped
from domain.results import ResultImage
from infrastructure.generators import build_generator
from infrastructure.generators.backoff import Backoff
from infrastructure.generators.cloudinary_results import CloudinaryAccount, CloudinaryResults
from infrastructure.generators.downloads import ImageDownloader
from infrastructure.generators.dry_run import DryRunGenerator
from infrastructure.generators.openai import OpenAIImageGenerator
from infrastructure.settings import SettingsError, load_settings
from tests.support.builders import generation_job
from tests.support.fake_cloudinary import API_SECRET, CLOUD, FakeCloudinary
from tests.support.fake_openai import API_KEY, FakeOpenAI, Reply, error, images
from tests.support.png import png, png_size

SHIRT = png(3, 2, (10, 20, 30))
TROUSERS = png(2, 3, (40, 50, 60))
MODEL = png(4, 4, (70, 80, 90))
MAX_BYTES = 4096


class RecordingStop(threading.Event):
    """A stop signal whose waits (the backoff) are recorded and return at once."""

    def __init__(self) -> None:
        super().__init__()
        self.waits: list[float] = []

    def wait(self, timeout: float | None = None) -> bool:
        self.waits.append(timeout or 0.0)
        return self.is_set()


@pytest.fixture
def cloudinary() -> Iterator[FakeCloudinary]:
    with FakeCloudinary().running() as server:
        yield server


@pytest.fixture
def openai_fake() -> Iterator[FakeOpenAI]:
    with FakeOpenAI().running() as server:
        yield server


def make_generator(
    openai_fake: FakeOpenAI, cloudinary: FakeCloudinary, **changes: Any
) -> OpenAIImageGenerator:
    values: dict[str, Any] = {
        "api_key": API_KEY,
        "cloudinary_url": cloudinary.cloudinary_url,
        "timeout_seconds": 5.0,
        "max_attempts": 4,
    }
    values.update(changes)
    return OpenAIImageGenerator(
        values["api_key"],
        base_url=openai_fake.base_url,
        model="gpt-image-1",
        downloader=ImageDownloader(cloudinary.origin, MAX_BYTES),
        results=CloudinaryResults(CloudinaryAccount.from_url(values["cloudinary_url"])),
        backoff=Backoff(max_attempts=values["max_attempts"], base_seconds=2.0, max_seconds=30.0),
        timeout_seconds=values["timeout_seconds"],
    )


@pytest.fixture
def generator(
    openai_fake: FakeOpenAI, cloudinary: FakeCloudinary
) -> Iterator[OpenAIImageGenerator]:
    adapter = make_generator(openai_fake, cloudinary)
    yield adapter
    adapter.close()


def job_with_photos(cloudinary: FakeCloudinary, **changes: Any) -> GenerationJob:
    values: dict[str, Any] = {
        "product_images": (
            cloudinary.host("c_fill,w_3,h_2/v1/shirts/blue.png", SHIRT),
            cloudinary.host("v2/trousers/grey.png", TROUSERS),
        ),
        "model_images": (cloudinary.host("v3/models/ana.png", MODEL),),
        "lease_expires_at": datetime.now(UTC) + timedelta(minutes=10),
    }
    values.update(changes)
    return generation_job(**values)


def test_the_photos_reach_the_image_edit_and_the_results_are_stored_on_cloudinary(
    generator: OpenAIImageGenerator, openai_fake: FakeOpenAI, cloudinary: FakeCloudinary
) -> None:
    made = png(6, 4, (1, 2, 3))
    openai_fake.will_answer(images(made))
    job = job_with_photos(cloudinary, aspect_ratio="16:9", quality="high")

    (result,) = generator.generate(job, RecordingStop())

    (request,) = openai_fake.requests
    assert request.path == "/v1/images/edits"
    assert request.images == [SHIRT, TROUSERS, MODEL]  # the generation's photos, in order
    assert request.fields["model"] == "gpt-image-1"
    assert (request.fields["size"], request.fields["quality"]) == ("1536x1024", "high")
    assert request.fields["prompt"] == job.prompt
    public_id = f"atelier/alice/{job.generation_id}/result-1"
    assert result == ResultImage(
        url=f"https://res.cloudinary.com/{CLOUD}/image/upload/v1700000000/{public_id}.png",
        public_id=public_id,
        format="png",
        width=6,
        height=4,
    )
    assert cloudinary.refused == []  # the signature was Cloudinary's
    delivered = cloudinary.hosted[cloudinary.delivery_path(result.url)]
    assert delivered == made and png_size(delivered) == (6, 4)


@pytest.mark.parametrize(
    ("aspect_ratio", "quality", "size", "sent_quality"),
    [
        ("1:1", "standard", "1024x1024", "medium"),
        ("9:16", "ultra", "1024x1536", "high"),
        ("2:3", "high", "1024x1536", "high"),
        ("3:2", "standard", "1536x1024", "medium"),
    ],
)
def test_size_follows_the_aspect_ratio_and_quality_the_quality(
    generator: OpenAIImageGenerator,
    openai_fake: FakeOpenAI,
    cloudinary: FakeCloudinary,
    aspect_ratio: str,
    quality: str,
    size: str,
    sent_quality: str,
) -> None:
    openai_fake.will_answer(images())
    generator.generate(
        job_with_photos(cloudinary, aspect_ratio=aspect_ratio, quality=quality), RecordingStop()
    )
    (request,) = openai_fake.requests
    assert (request.fields["size"], request.fields["quality"]) == (size, sent_quality)


def test_a_retried_generation_overwrites_its_results_instead_of_adding_more(
    generator: OpenAIImageGenerator, openai_fake: FakeOpenAI, cloudinary: FakeCloudinary
) -> None:
    openai_fake.will_answer(images(png(2, 2)), images(png(5, 5)))
    job = job_with_photos(cloudinary)
    (first,) = generator.generate(job, RecordingStop())
    (second,) = generator.generate(job, RecordingStop())
    assert first.public_id == second.public_id
    assert list(cloudinary.stored) == [first.public_id]
    assert (second.width, cloudinary.uploads[-1].fields["overwrite"]) == (5, "1")


def test_429_is_retried_after_what_retry_after_asks(
    generator: OpenAIImageGenerator, openai_fake: FakeOpenAI, cloudinary: FakeCloudinary
) -> None:
    openai_fake.will_answer(error(429, "slow down", retry_after="17"), images())
    stop = RecordingStop()
    generator.generate(job_with_photos(cloudinary), stop)
    assert len(openai_fake.requests) == 2
    assert stop.waits[0] >= 17


def test_server_errors_are_retried_with_capped_jittered_backoff_then_fail_readably(
    generator: OpenAIImageGenerator, openai_fake: FakeOpenAI, cloudinary: FakeCloudinary
) -> None:
    openai_fake.will_answer(*[error(503, f"{API_KEY} leaked upstream text")] * 4)
    stop = RecordingStop()
    with pytest.raises(GeneratorFailure) as failed:
        generator.generate(job_with_photos(cloudinary), stop)
    assert failed.value.reason == (
        "Image generation failed: OpenAI server error (HTTP 503) (after 4 attempts)."
    )
    assert failed.value.upstream
    ceilings = [2.0, 4.0, 8.0]
    assert all(c / 2 <= w <= c for w, c in zip(stop.waits, ceilings, strict=True)), stop.waits
    assert cloudinary.uploads == []


def test_408_and_409_are_retried_as_openai_asks(
    generator: OpenAIImageGenerator, openai_fake: FakeOpenAI, cloudinary: FakeCloudinary
) -> None:
    openai_fake.will_answer(error(408), error(409), images())
    (result,) = generator.generate(job_with_photos(cloudinary), RecordingStop())
    assert len(openai_fake.requests) == 3
    assert result.public_id in cloudinary.stored


def test_no_retry_runs_past_the_lease(
    generator: OpenAIImageGenerator, openai_fake: FakeOpenAI, cloudinary: FakeCloudinary
) -> None:
    openai_fake.will_answer(error(429, "slow down", retry_after="20"), images())
    job = job_with_photos(cloudinary, lease_expires_at=datetime.now(UTC) + timedelta(seconds=10))
    with pytest.raises(GeneratorFailure, match="no time left on the lease"):
        generator.generate(job, RecordingStop())
    assert len(openai_fake.requests) == 1


def test_a_hang_past_the_timeout_is_retried_then_fails_as_timed_out(
    openai_fake: FakeOpenAI, cloudinary: FakeCloudinary
) -> None:
    adapter = make_generator(openai_fake, cloudinary, timeout_seconds=0.5, max_attempts=2)
    openai_fake.will_answer(Reply(hang_seconds=30), Reply(hang_seconds=30))
    with pytest.raises(GeneratorFailure, match="did not answer in time"):
        adapter.generate(job_with_photos(cloudinary), RecordingStop())
    assert len(openai_fake.requests) == 2
    adapter.close()


@pytest.mark.parametrize(
    ("reply", "reason"),
    [
        (
            error(401, f"Incorrect API key provided: {API_KEY}"),
            "Image generation failed: OpenAI refused the service's credentials (HTTP 401).",
        ),
        (
            error(400, f"Your prompt mentions {API_KEY} and secrets"),
            "Image generation failed: OpenAI refused the request (HTTP 400).",
        ),
        (
            Reply(200, b'{"data": [{"url": "https://expiring.example/x.png"}]}'),
            "Image generation failed: OpenAI returned a malformed answer.",
        ),
        (
            Reply(200, b"not json"),
            "Image generation failed: OpenAI returned a malformed answer.",
        ),
    ],
)
def test_refusals_and_malformed_answers_are_not_retried_and_never_echo_upstream_text(
    generator: OpenAIImageGenerator,
    openai_fake: FakeOpenAI,
    cloudinary: FakeCloudinary,
    reply: Reply,
    reason: str,
) -> None:
    openai_fake.will_answer(reply, images())
    with pytest.raises(GeneratorFailure) as failed:
        generator.generate(job_with_photos(cloudinary), RecordingStop())
    assert failed.value.reason == reason
    assert API_KEY not in failed.value.reason
    assert len(openai_fake.requests) == 1
    assert cloudinary.uploads == []


def test_a_cancel_while_the_model_runs_stops_the_work_and_uploads_nothing(
    generator: OpenAIImageGenerator, openai_fake: FakeOpenAI, cloudinary: FakeCloudinary
) -> None:
    openai_fake.will_answer(Reply(200, images().body, hang_seconds=30))
    stop = threading.Event()
    threading.Thread(
        target=lambda: openai_fake.arrived.wait(30) and stop.set(), daemon=True
    ).start()
    with pytest.raises(WorkStopped):
        generator.generate(job_with_photos(cloudinary), stop)
    openai_fake.release.set()
    assert cloudinary.uploads == []


def test_an_image_over_image_max_bytes_fails_before_the_model_is_called(
    generator: OpenAIImageGenerator, openai_fake: FakeOpenAI, cloudinary: FakeCloudinary
) -> None:
    big = cloudinary.host("v1/huge.png", b"x" * (MAX_BYTES + 1))
    with pytest.raises(GeneratorFailure, match=r"productImages\.0 is larger than 4096 bytes"):
        generator.generate(job_with_photos(cloudinary, product_images=(big,)), RecordingStop())
    assert openai_fake.requests == []


def test_a_redirect_off_the_delivery_host_is_not_followed(
    generator: OpenAIImageGenerator, openai_fake: FakeOpenAI, cloudinary: FakeCloudinary
) -> None:
    url = cloudinary.host("v1/moved.png", SHIRT)
    cloudinary.redirects[cloudinary.delivery_path(url)] = "http://169.254.169.254/latest/"
    with pytest.raises(GeneratorFailure, match="redirects off Cloudinary"):
        generator.generate(job_with_photos(cloudinary, product_images=(url,)), RecordingStop())
    assert openai_fake.requests == []


def test_a_same_host_redirect_is_followed(
    generator: OpenAIImageGenerator, openai_fake: FakeOpenAI, cloudinary: FakeCloudinary
) -> None:
    url = cloudinary.host("v1/old.png", b"")
    target = cloudinary.host("v1/new.png", SHIRT)
    cloudinary.redirects[cloudinary.delivery_path(url)] = cloudinary.delivery_path(target)
    openai_fake.will_answer(images())
    generator.generate(
        job_with_photos(cloudinary, product_images=(url,), model_images=()), RecordingStop()
    )
    assert openai_fake.requests[0].images == [SHIRT]


def test_an_url_that_fails_the_format_rules_is_never_requested(
    generator: OpenAIImageGenerator, openai_fake: FakeOpenAI, cloudinary: FakeCloudinary
) -> None:
    bad = f"https://res.cloudinary.com/{CLOUD}/image/upload/l_fetch:aHR0cDovL3g=/v1/x.png"
    with pytest.raises(GeneratorFailure, match=r"productImages\.0 cannot be used"):
        generator.generate(job_with_photos(cloudinary, product_images=(bad,)), RecordingStop())
    assert cloudinary.delivered == []
    assert openai_fake.requests == []


def test_an_upload_with_a_wrong_secret_is_refused_by_its_signature_and_not_retried(
    openai_fake: FakeOpenAI, cloudinary: FakeCloudinary
) -> None:
    wrong = cloudinary.cloudinary_url.replace(API_SECRET, "not-the-secret")
    adapter = make_generator(openai_fake, cloudinary, cloudinary_url=wrong)
    openai_fake.will_answer(images())
    with pytest.raises(GeneratorFailure) as failed:
        adapter.generate(job_with_photos(cloudinary), RecordingStop())
    assert failed.value.reason.startswith("Storing the result failed: Cloudinary refused")
    assert "not-the-secret" not in failed.value.reason
    assert cloudinary.refused == ["Invalid Signature"]
    adapter.close()


def test_a_failed_upload_is_retried(
    generator: OpenAIImageGenerator, openai_fake: FakeOpenAI, cloudinary: FakeCloudinary
) -> None:
    cloudinary.upload_failures.append(500)
    openai_fake.will_answer(images())
    (result,) = generator.generate(job_with_photos(cloudinary), RecordingStop())
    assert len(cloudinary.uploads) == 1 and result.public_id in cloudinary.stored
    assert len(openai_fake.requests) == 1  # the image was not made (and billed) twice


def test_the_generator_setting_picks_the_adapter_and_openai_needs_its_keys(
    cloudinary: FakeCloudinary,
) -> None:
    assert isinstance(build_generator(load_settings(generator="dry-run")), DryRunGenerator)
    with pytest.raises(SettingsError, match="OPENAI_API_KEY"):
        build_generator(load_settings(generator="openai"))
    with pytest.raises(SettingsError, match="CLOUDINARY_URL"):
        build_generator(load_settings(generator="openai", openai_api_key=API_KEY))
    built = build_generator(
        load_settings(
            generator="openai", openai_api_key=API_KEY, cloudinary_url=cloudinary.cloudinary_url
        )
    )
    assert isinstance(built, OpenAIImageGenerator)
    built.close()
