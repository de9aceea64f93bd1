"""The worker's downloads of a generation's images: only URLs that pass the format rules, fetched
from CLOUDINARY_DELIVERY_URL, capped in size and time, never redirected off that host."""

from __future__ import annotations

import httpx

from application.ports import GeneratorFailure
from domain.images import ImageUrlError, parse_cloudinary_url
from infrastructure.delivery import delivery_address

DOWNLOAD_TIMEOUT = httpx.Timeout(connect=5.0, read=15.0, write=5.0, pool=5.0)
MAX_REDIRECTS = 3


class ImageDownloader:
    """Thread-safe; one connection pool for every download of the worker."""

    def __init__(
        self,
        delivery_base: str,
        max_bytes: int,
        cloud_names: frozenset[str] = frozenset(),
        timeout: httpx.Timeout = DOWNLOAD_TIMEOUT,
    ) -> None:
        self.delivery_base = delivery_base
        self.max_bytes = max_bytes
        self.cloud_names = cloud_names
        self.client = httpx.Client(timeout=timeout, follow_redirects=False)

    def close(self) -> None:
        self.client.close()

    def fetch(self, url: str, field: str) -> bytes:
        """The image's bytes, or GeneratorFailure naming `field` (`productImages.0`)."""
        try:
            parse_cloudinary_url(url, self.cloud_names)  # never a request to a URL that fails
            target = httpx.URL(delivery_address(url, self.delivery_base))
        except ImageUrlError as error:
            raise GeneratorFailure(f"Image {field} cannot be used: {error}.") from None
        for _ in range(MAX_REDIRECTS + 1):
            try:
                with self.client.stream("GET", target) as response:
                    if response.is_success:
                        return self._read(response, field)
                    if not response.has_redirect_location:
                        raise GeneratorFailure(
                            f"Image {field} could not be downloaded (HTTP {response.status_code})."
                        )
                    following = target.join(response.headers["location"])
            except httpx.TimeoutException:
                raise GeneratorFailure(
                    f"Image {field} could not be downloaded: timed out.", upstream=False
                ) from None
            except httpx.HTTPError:
                raise GeneratorFailure(f"Image {field} could not be downloaded.") from None
            if (following.scheme, following.host, following.port) != (
                target.scheme,
                target.host,
                target.port,
            ):
                raise GeneratorFailure(f"Image {field} redirects off Cloudinary; not followed.")
            target = following
        raise GeneratorFailure(f"Image {field} redirects too many times.")

    def _read(self, response: httpx.Response, field: str) -> bytes:
        declared = response.headers.get("content-length", "")
        if declared.isdigit() and int(declared) > self.max_bytes:
            raise GeneratorFailure(self._too_large(field))
        chunks: list[bytes] = []
        size = 0
        for chunk in response.iter_bytes():
            size += len(chunk)
            if size > self.max_bytes:
                raise GeneratorFailure(self._too_large(field))
            chunks.append(chunk)
        if not size:
            raise GeneratorFailure(f"Image {field} is empty.")
        return b"".join(chunks)

    def _too_large(self, field: str) -> str:
        return f"Image {field} is larger than {self.max_bytes} bytes."
