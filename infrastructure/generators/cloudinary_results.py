"""Durable results: each generated image uploaded to Cloudinary with the official package, under
`atelier/<userId>/<generationId>` with a public id fixed per result, so a retry overwrites."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs, urlsplit

import cloudinary.exceptions
import cloudinary.uploader

from application.ports import GenerationJob
from domain.results import ResultImage
from infrastructure.generators.backoff import Retryable

UPLOAD_TIMEOUT_SECONDS = 60
NOT_RETRIED = (
    cloudinary.exceptions.BadRequest,
    cloudinary.exceptions.AuthorizationRequired,
    cloudinary.exceptions.NotAllowed,
    cloudinary.exceptions.NotFound,
)


class UploadRefused(Exception):
    """Cloudinary refused the upload for good (credentials, a bad request)."""


@dataclass(frozen=True)
class CloudinaryAccount:
    """CLOUDINARY_URL as the `cloudinary` package reads it: cloudinary://KEY:SECRET@CLOUD, its
    query parameters (upload_prefix among them) as configuration."""

    cloud_name: str
    api_key: str
    api_secret: str
    options: dict[str, str]

    @classmethod
    def from_url(cls, url: str) -> CloudinaryAccount:
        parts = urlsplit(url)
        if parts.scheme != "cloudinary" or not (parts.hostname and parts.username):
            raise ValueError("CLOUDINARY_URL must be cloudinary://KEY:SECRET@CLOUD")
        options = {key: values[0] for key, values in parse_qs(parts.query).items()}
        return cls(parts.hostname, parts.username, parts.password or "", options)

    def upload_options(self) -> dict[str, Any]:
        return {
            **self.options,
            "cloud_name": self.cloud_name,
            "api_key": self.api_key,
            "api_secret": self.api_secret,
        }


def result_folder(job: GenerationJob) -> str:
    return f"atelier/{job.user_id}/{job.generation_id}"


def result_public_id(index: int) -> str:
    """Within the generation's folder: the same for the same result on every attempt."""
    return f"result-{index + 1}"


class CloudinaryResults:
    def __init__(self, account: CloudinaryAccount) -> None:
        self.account = account

    def upload(self, job: GenerationJob, index: int, image: bytes) -> ResultImage:
        """One upload attempt: the result as recorded, Retryable, or UploadRefused."""
        try:
            answer = cloudinary.uploader.upload(
                image,
                folder=result_folder(job),
                public_id=result_public_id(index),
                overwrite=True,
                invalidate=True,
                resource_type="image",
                timeout=UPLOAD_TIMEOUT_SECONDS,
                **self.account.upload_options(),
            )
        except NOT_RETRIED as error:
            kind = type(error).__name__
            raise UploadRefused(f"Cloudinary refused the result upload ({kind}).") from None
        except cloudinary.exceptions.Error:
            raise Retryable("Cloudinary could not store the result") from None
        try:
            return ResultImage(
                url=str(answer["secure_url"]),
                public_id=str(answer["public_id"]),
                format=str(answer["format"]) if answer.get("format") else None,
                width=int(answer["width"]) if answer.get("width") else None,
                height=int(answer["height"]) if answer.get("height") else None,
            )
        except (KeyError, TypeError, ValueError):
            raise Retryable("Cloudinary answered the upload with a malformed answer") from None
