"""Result images: the https URLs a worker may hand back as a generation's outcome (any host)."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from urllib.parse import urlsplit

from domain.errors import FieldProblem, InvalidRequest
from domain.images import ImageUrlError, parse_cloudinary_url

MIN_RESULT_IMAGES = 1
MAX_RESULT_IMAGES = 4
MAX_URL_LENGTH = 2048
FIELD = "resultImages"
_FORBIDDEN_CHARACTERS = re.compile(r"[\s\\\x00-\x1f\x7f]")


@dataclass(frozen=True)
class ResultImage:
    """A result as its generation records it (`ImageLinked`, role `result`)."""

    url: str
    public_id: str
    format: str | None
    width: int | None
    height: int | None

    @classmethod
    def of_url(cls, url: str) -> ResultImage:
        """What a bare URL tells: a Cloudinary delivery URL its public id, format and size;
        any other URL nothing (an empty public id)."""
        try:
            image = parse_cloudinary_url(url)
        except ImageUrlError:
            return cls(url, "", None, None, None)
        return cls(url, image.public_id, image.format, image.width, image.height)


def result_url_problem(url: str) -> str | None:
    """Why `url` is not an acceptable result image URL, or None when it is."""
    if len(url) > MAX_URL_LENGTH:
        return f"Result image URL is longer than {MAX_URL_LENGTH} characters"
    if _FORBIDDEN_CHARACTERS.search(url):
        return "Result image URL contains whitespace, control characters or backslashes"
    try:
        parts = urlsplit(url)
    except ValueError:  # an unbalanced [ or ] around the host: no URL at all
        return "Result image URL is not a valid URL"
    if parts.scheme != "https":
        return "Result image URL must be an absolute https URL"
    if "@" in parts.netloc:
        return "Result image URL must not contain user information"
    if not parts.hostname:
        return "Result image URL must name a host"
    return None


def check_result_images(urls: Sequence[str]) -> list[str]:
    """The URLs as a list, or InvalidRequest naming each offending `resultImages.N`."""
    if not MIN_RESULT_IMAGES <= len(urls) <= MAX_RESULT_IMAGES:
        count = FieldProblem(
            FIELD, f"Between {MIN_RESULT_IMAGES} and {MAX_RESULT_IMAGES} result images are required"
        )
        raise InvalidRequest("Invalid result images", [count])
    problems: list[FieldProblem] = []
    first_seen: dict[str, int] = {}
    for index, url in enumerate(urls):
        field = f"{FIELD}.{index}"
        if url in first_seen:
            problems.append(FieldProblem(field, f"Result image repeats {FIELD}.{first_seen[url]}"))
            continue
        first_seen[url] = index
        problem = result_url_problem(url)
        if problem is not None:
            problems.append(FieldProblem(field, problem))
    if problems:
        raise InvalidRequest("Invalid result images", problems)
    return list(urls)
