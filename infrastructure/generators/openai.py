"""GENERATOR=openai: the OpenAI Images API (`POST /images/generations`) through httpx.

Retries, the lease bound and the circuit breaker are described in docs/lifecycle.md.
"""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

import httpx

from application.ports import GenerationJob, GeneratorFailure, system_clock
from domain.results import MAX_RESULT_IMAGES, result_url_problem
from infrastructure.generators.circuit_breaker import CircuitBreaker, CircuitOpen

logger = logging.getLogger(__name__)

MODEL_IDS = {"gpt-4.1-dalle-3": "dall-e-3"}
SIZES = {
    "1:1": "1024x1024",
    "16:9": "1792x1024",
    "3:2": "1792x1024",
    "9:16": "1024x1792",
    "2:3": "1024x1792",
}
QUALITIES = {"standard": "standard", "high": "hd", "ultra": "hd"}
STYLES = {"realistic": "natural", "minimal": "natural", "artistic": "vivid"}
MAX_PROMPT_CHARACTERS = 4000  # dall-e-3's limit
DEFAULT_TIMEOUT = httpx.Timeout(connect=10.0, read=120.0, write=30.0, pool=10.0)
MAX_ATTEMPTS = 4
BACKOFF_BASE_SECONDS = 2.0
BACKOFF_MAX_SECONDS = 30.0
MAX_UPSTREAM_MESSAGE = 300
RETRYABLE_STATUSES = frozenset({429, 500, 502, 503, 504})

UNAVAILABLE = (
    "Image generation is temporarily unavailable: OpenAI failed repeatedly, so calls are "
    "paused (circuit breaker open)."
)
MALFORMED = "Image generation failed: OpenAI returned a malformed answer."


class _Retryable(Exception):
    """One attempt failed in a way worth trying again (and counted by the breaker)."""

    def __init__(self, problem: str, retry_after: float | None = None) -> None:
        super().__init__(problem)
        self.problem = problem
        self.retry_after = retry_after


def request_body(job: GenerationJob) -> dict[str, Any]:
    """The Images API request for a generation; GeneratorFailure for options it cannot serve."""
    model = MODEL_IDS.get(job.model)
    size = SIZES.get(job.aspect_ratio)
    if model is None:
        raise GeneratorFailure(f"Model {job.model} is not available from OpenAI.")
    if size is None:
        raise GeneratorFailure(f"Aspect ratio {job.aspect_ratio} is not available from OpenAI.")
    return {
        "model": model,
        "prompt": job.prompt[:MAX_PROMPT_CHARACTERS],
        "n": 1,
        "size": size,
        "quality": QUALITIES.get(job.quality, "standard"),
        "style": STYLES.get(job.style, "natural"),
        "response_format": "url",
    }


def result_urls(response: httpx.Response) -> list[str]:
    """The https image URLs of a 200 answer, or GeneratorFailure(MALFORMED)."""
    try:
        body = response.json()
    except ValueError:
        raise GeneratorFailure(MALFORMED) from None
    data = body.get("data") if isinstance(body, dict) else None
    if not isinstance(data, list) or not data:
        raise GeneratorFailure(MALFORMED)
    urls = [item.get("url") for item in data[:MAX_RESULT_IMAGES] if isinstance(item, dict)]
    if len(urls) != len(data[:MAX_RESULT_IMAGES]) or not all(
        isinstance(url, str) and result_url_problem(url) is None for url in urls
    ):
        raise GeneratorFailure(MALFORMED)
    return [str(url) for url in urls]


def refusal_reason(response: httpx.Response) -> str:
    """Why OpenAI refused a request, in words fit for the generation's owner."""
    status = response.status_code
    if status in (401, 403):
        return f"Image generation failed: OpenAI refused the service's credentials (HTTP {status})."
    message = None
    try:
        body = response.json()
        error = body.get("error") if isinstance(body, dict) else None
        if isinstance(error, dict) and isinstance(error.get("message"), str):
            message = " ".join(error["message"].split())[:MAX_UPSTREAM_MESSAGE]
    except ValueError:
        pass
    if message:
        return f"Image generation failed: OpenAI refused the request: {message}"
    return f"Image generation failed: OpenAI refused the request (HTTP {status})."


def _retry_after_seconds(response: httpx.Response) -> float | None:
    value = response.headers.get("retry-after", "")
    try:
        return max(0.0, float(value))
    except ValueError:
        return None


class OpenAIImageGenerator:
    """The OpenAI adapter of the ImageGenerator port."""

    name = "openai"

    def __init__(
        self,
        api_key: str,
        base_url: str = "https://api.openai.com/v1",
        *,
        breaker: CircuitBreaker | None = None,
        timeout: httpx.Timeout = DEFAULT_TIMEOUT,
        max_attempts: int = MAX_ATTEMPTS,
        backoff_base_seconds: float = BACKOFF_BASE_SECONDS,
        backoff_max_seconds: float = BACKOFF_MAX_SECONDS,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], datetime] = system_clock,
    ) -> None:
        self.breaker = breaker or CircuitBreaker()
        self.max_attempts = max_attempts
        self.backoff_base_seconds = backoff_base_seconds
        self.backoff_max_seconds = backoff_max_seconds
        self.sleep = sleep
        self.clock = clock
        self.client = httpx.Client(
            base_url=base_url.rstrip("/"),
            timeout=timeout,
            headers={"Authorization": f"Bearer {api_key}"},
            follow_redirects=False,
        )

    def close(self) -> None:
        self.client.close()

    def is_available(self) -> bool:
        return self.breaker.is_available()

    def generate(self, job: GenerationJob) -> list[str]:
        """Result URLs from OpenAI, retrying what is worth retrying, or GeneratorFailure."""
        body = request_body(job)
        problem = "no attempt was made"
        for attempt in range(1, self.max_attempts + 1):
            try:
                self.breaker.before_call()
            except CircuitOpen:
                raise GeneratorFailure(UNAVAILABLE) from None
            try:
                return self._attempt(body)
            except _Retryable as failure:
                problem = failure.problem
                logger.warning(
                    "generation %s: OpenAI attempt %d/%d failed: %s",
                    job.generation_id,
                    attempt,
                    self.max_attempts,
                    problem,
                )
                if attempt == self.max_attempts:
                    break
                delay = self._backoff(attempt, failure.retry_after)
                if self.clock() + timedelta(seconds=delay) >= job.lease_expires_at:
                    problem += "; no time left on the lease to retry"
                    break
                self.sleep(delay)
        raise GeneratorFailure(
            f"Image generation failed: {problem} (after {attempt} attempt"
            f"{'s' if attempt > 1 else ''})."
        )

    def _attempt(self, body: dict[str, Any]) -> list[str]:
        """One call, reported to the breaker exactly once."""
        try:
            response = self.client.post("/images/generations", json=body)
        except httpx.TimeoutException:
            self.breaker.record_failure()
            raise _Retryable("OpenAI did not answer in time") from None
        except httpx.HTTPError:
            self.breaker.record_failure()
            raise _Retryable("OpenAI could not be reached") from None
        status = response.status_code
        if status in RETRYABLE_STATUSES:
            self.breaker.record_failure()
            kind = "rate limit" if status == 429 else "server error"
            raise _Retryable(f"OpenAI {kind} (HTTP {status})", _retry_after_seconds(response))
        if status != 200:
            self.breaker.record_success()  # the upstream is healthy; it refused this request
            raise GeneratorFailure(refusal_reason(response))
        try:
            urls = result_urls(response)
        except GeneratorFailure:
            # Not retried: the model may already have produced (and billed) an image.
            self.breaker.record_failure()
            raise
        self.breaker.record_success()
        return urls

    def _backoff(self, attempt: int, retry_after: float | None) -> float:
        """Exponential with jitter; at least what Retry-After asks; never over the maximum."""
        ceiling = min(self.backoff_max_seconds, self.backoff_base_seconds * 2 ** (attempt - 1))
        delay = random.uniform(ceiling / 2, ceiling)  # noqa: S311 - jitter, not a secret
        if retry_after is not None:
            delay = max(delay, retry_after)
        return min(delay, self.backoff_max_seconds)
