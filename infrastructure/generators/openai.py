"""GENERATOR=openai: the generation's photos and prompt through OpenAI's image edit (the official
`openai` package), each returned image uploaded to Cloudinary (docs/lifecycle.md, "Generators")."""

from __future__ import annotations

import base64
import binascii
import logging
import threading
from collections.abc import Callable
from concurrent.futures import Future
from functools import partial
from typing import Any, TypeVar

import openai

from application.ports import GenerationJob, GeneratorFailure, StopSignal, WorkStopped
from domain.catalogue import CATALOGUE
from domain.results import MAX_RESULT_IMAGES, ResultImage
from infrastructure.generators.backoff import Backoff, Retryable, retry_after_seconds
from infrastructure.generators.cloudinary_results import CloudinaryResults, UploadRefused
from infrastructure.generators.downloads import ImageDownloader

logger = logging.getLogger(__name__)
T = TypeVar("T")

SIZES = {
    "1:1": "1024x1024",
    "16:9": "1536x1024",
    "3:2": "1536x1024",
    "9:16": "1024x1536",
    "2:3": "1024x1536",
}
QUALITIES = {"standard": "medium", "high": "high", "ultra": "high"}
MAX_PROMPT_CHARACTERS = 32_000  # gpt-image-1's limit
REQUEST_TIMEOUT_SECONDS = 180.0
STOP_POLL_SECONDS = 0.2
RETRIED_STATUSES = frozenset({408, 409})  # besides 429 and 5xx
REFUSAL_CODES = {
    "moderation_blocked": "OpenAI's safety system rejected the request",
    "content_policy_violation": "OpenAI's safety system rejected the request",
    "image_too_large": "an image is too large for OpenAI",
    "invalid_image_format": "an image is in a format OpenAI does not take",
}


def edit_options(job: GenerationJob, model: str) -> dict[str, Any]:
    """The image-edit request's options for a generation (without its images)."""
    size = SIZES.get(job.aspect_ratio)
    if size is None:
        raise GeneratorFailure(f"Aspect ratio {job.aspect_ratio} is not available from OpenAI.")
    options: dict[str, Any] = {
        "model": model,
        "prompt": job.prompt[:MAX_PROMPT_CHARACTERS],
        "n": 1,
        "size": size,
        "quality": QUALITIES.get(job.quality, "medium"),
    }
    if model.startswith("dall-e"):
        options["response_format"] = "b64_json"  # its default is an URL that expires
        options.pop("quality")
    return options


def refusal_reason(error: openai.APIStatusError) -> str:
    """Why OpenAI refused, in our own words: never its raw answer, which can quote the key."""
    status = error.status_code
    if status in (401, 403):
        return f"Image generation failed: OpenAI refused the service's credentials (HTTP {status})."
    known = REFUSAL_CODES.get(str(getattr(error, "code", "") or ""))
    if known:
        return f"Image generation failed: {known}."
    return f"Image generation failed: OpenAI refused the request (HTTP {status})."


def decoded_images(response: Any) -> list[bytes]:
    """The base64 images of an answer, or GeneratorFailure (not retried: it may be billed)."""
    data = getattr(response, "data", None) or []
    images: list[bytes] = []
    for item in data[:MAX_RESULT_IMAGES]:
        encoded = getattr(item, "b64_json", None)
        if not isinstance(encoded, str) or not encoded:
            break
        try:
            images.append(base64.b64decode(encoded, validate=True))
        except (binascii.Error, ValueError):
            break
    if not images or len(images) != len(data[:MAX_RESULT_IMAGES]):
        raise GeneratorFailure(
            "Image generation failed: OpenAI returned a malformed answer.", upstream=True
        )
    return images


class OpenAIImageGenerator:
    """Downloads, one model call and the uploads, each retried within the lease."""

    name = "openai"

    def __init__(
        self,
        api_key: str,
        *,
        base_url: str,
        model: str,
        downloader: ImageDownloader,
        results: CloudinaryResults,
        backoff: Backoff | None = None,
        timeout_seconds: float = REQUEST_TIMEOUT_SECONDS,
    ) -> None:
        self.model = model
        self.downloader = downloader
        self.results = results
        self.backoff = backoff or Backoff()
        # Retries are ours (bounded by the lease, honouring Retry-After), not the package's.
        self.client = openai.OpenAI(
            api_key=api_key, base_url=base_url, max_retries=0, timeout=timeout_seconds
        )

    def close(self) -> None:
        self.client.close()
        self.downloader.close()

    def generate(self, job: GenerationJob, stop: StopSignal) -> list[ResultImage]:
        entry = CATALOGUE.get(job.model)
        if entry is None:
            raise GeneratorFailure(f"Model {job.model} is not available from OpenAI.")
        options = edit_options(job, self.model)
        photos = self._photos(job) if entry.input_images else []
        images = self._retried(job, stop, "OpenAI", lambda: self._call(options, photos))
        if stop.is_set():
            raise WorkStopped
        return [
            self._retried(job, stop, "Cloudinary", partial(self._upload, job, index, image))
            for index, image in enumerate(images)
        ]

    def _photos(self, job: GenerationJob) -> list[tuple[str, bytes, str]]:
        named = [(f"productImages.{n}", url) for n, url in enumerate(job.product_images)]
        named += [(f"modelImages.{n}", url) for n, url in enumerate(job.model_images)]
        photos = []
        for field, url in named:
            data = self.downloader.fetch(url, field)
            extension = url.rsplit(".", 1)[-1].lower() if "." in url.rsplit("/", 1)[-1] else "png"
            photos.append((f"{field}.{extension}", data, _media_type(extension)))
        return photos

    def _call(self, options: dict[str, Any], photos: list[tuple[str, bytes, str]]) -> list[bytes]:
        """One model call: the images it returned, Retryable, or GeneratorFailure."""
        try:
            if photos:
                response = self.client.images.edit(image=photos, **options)
            else:
                response = self.client.images.generate(**options)
        except openai.RateLimitError as error:
            retry_after = retry_after_seconds(error.response.headers.get("retry-after"))
            raise Retryable("OpenAI rate limit (HTTP 429)", retry_after) from None
        except openai.InternalServerError as error:
            status = error.status_code
            raise Retryable(f"OpenAI server error (HTTP {status})") from None
        except openai.APITimeoutError:
            raise Retryable("OpenAI did not answer in time") from None
        except openai.APIConnectionError:
            raise Retryable("OpenAI could not be reached") from None
        except openai.APIStatusError as error:
            if error.status_code in RETRIED_STATUSES:  # what OpenAI asks clients to retry
                raise Retryable(f"OpenAI asked to try again (HTTP {error.status_code})") from None
            raise GeneratorFailure(refusal_reason(error)) from None
        except (openai.OpenAIError, ValueError, TypeError):  # an answer it could not read
            raise GeneratorFailure(
                "Image generation failed: OpenAI returned a malformed answer.", upstream=True
            ) from None
        return decoded_images(response)

    def _upload(self, job: GenerationJob, index: int, image: bytes) -> ResultImage:
        try:
            return self.results.upload(job, index, image)
        except UploadRefused as refused:
            raise GeneratorFailure(f"Storing the result failed: {refused}") from None

    def _retried(
        self, job: GenerationJob, stop: StopSignal, upstream: str, attempt: Callable[[], T]
    ) -> T:
        """`attempt` until it succeeds, gives up, the backoff would pass the lease, or `stop`."""
        problem = "no attempt was made"
        made = 0
        for made in range(1, self.backoff.max_attempts + 1):
            try:
                return self._unless_stopped(stop, attempt)
            except Retryable as failure:
                problem = failure.problem
                logger.warning(
                    "generation %s: %s attempt %d/%d failed: %s",
                    job.generation_id,
                    upstream,
                    made,
                    self.backoff.max_attempts,
                    problem,
                )
                if made == self.backoff.max_attempts:
                    break
                delay = self.backoff.delay(made, failure.retry_after)
                if not self.backoff.fits(delay, job.lease_expires_at):
                    problem += "; no time left on the lease to retry"
                    break
                if stop.wait(delay):
                    raise WorkStopped from None
        plural = "s" if made > 1 else ""
        what = "Image generation" if upstream == "OpenAI" else "Storing the result"
        raise GeneratorFailure(
            f"{what} failed: {problem} (after {made} attempt{plural}).", upstream=True
        )

    def _unless_stopped(self, stop: StopSignal, attempt: Callable[[], T]) -> T:
        """The attempt in a thread of its own, so a cancel stops the wait (the call itself runs
        on, bounded by its timeout, and its answer is dropped). A thread per attempt, not a
        pool: a pool smaller than the worker's slots would queue their calls."""
        answer: Future[T] = Future()

        def run() -> None:
            try:
                answer.set_result(attempt())
            except BaseException as error:  # handed to the waiting slot, which raises it
                answer.set_exception(error)

        threading.Thread(target=run, name="upstream-call", daemon=True).start()
        while True:
            if stop.is_set():
                raise WorkStopped
            try:
                return answer.result(timeout=STOP_POLL_SECONDS)
            except TimeoutError:
                continue


def _media_type(extension: str) -> str:
    return {"jpg": "image/jpeg", "jpeg": "image/jpeg", "webp": "image/webp"}.get(
        extension, "image/png"
    )
