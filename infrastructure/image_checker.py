"""VERIFY_IMAGE_URLS: HEAD each image, concurrently, with a short timeout, staying on its host."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

import httpx

from domain.errors import FieldProblem
from domain.images import ImageUrlError
from infrastructure.delivery import DEFAULT_DELIVERY_URL, delivery_address

DEFAULT_TIMEOUT_SECONDS = 3.0
MAX_REDIRECTS = 3


class HttpImageChecker:
    """Checks images with HEAD requests; `transport` lets tests point it at a local server."""

    def __init__(
        self,
        timeout_seconds: float = DEFAULT_TIMEOUT_SECONDS,
        transport: httpx.AsyncBaseTransport | None = None,
        delivery_base: str = DEFAULT_DELIVERY_URL,
    ) -> None:
        self.timeout = httpx.Timeout(timeout_seconds)
        self.transport = transport
        self.delivery_base = delivery_base

    def unreachable(self, images: Sequence[tuple[str, str]]) -> list[FieldProblem]:
        """Problems for the (field, url) pairs that did not answer 2xx. Runs in a worker thread."""
        return asyncio.run(self._check_all(images))

    async def _check_all(self, images: Sequence[tuple[str, str]]) -> list[FieldProblem]:
        async with httpx.AsyncClient(
            timeout=self.timeout, follow_redirects=False, transport=self.transport
        ) as client:
            answers = await asyncio.gather(*(self._check(client, url) for _, url in images))
        return [
            FieldProblem(field, problem)
            for (field, _), problem in zip(images, answers, strict=True)
            if problem is not None
        ]

    async def _check(self, client: httpx.AsyncClient, url: str) -> str | None:
        """None if the image answers 2xx, else why not."""
        try:
            target = httpx.URL(delivery_address(url, self.delivery_base))
        except ImageUrlError:
            return "Image URL is not a Cloudinary delivery URL"
        for _ in range(MAX_REDIRECTS + 1):
            try:
                response = await client.head(target)
            except httpx.TimeoutException:
                return "Image could not be reached: timed out"
            except httpx.HTTPError:
                return "Image could not be reached"
            if response.is_success:
                return None
            if not response.has_redirect_location:
                return f"Image is not accessible: HTTP {response.status_code}"
            following = target.join(response.headers["location"])
            if (
                following.scheme != target.scheme
                or following.host != target.host
                or (following.port != target.port)
            ):
                return "Image redirects to another host"
            target = following
        return "Image redirects too many times"
