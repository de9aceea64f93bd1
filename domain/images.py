"""Cloudinary image URLs: the contract's format rules and what a URL says about its image.

Shape: `https://res.cloudinary.com/<cloud>/image/upload/<transformations>/v<version>/<id>.<ext>`.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from urllib.parse import unquote, urlsplit

from domain.errors import FieldProblem, InvalidImages

CLOUDINARY_HOST = "res.cloudinary.com"
MAX_URL_LENGTH = 2048

# Cloudinary's transformation parameter keys (https://cloudinary.com/documentation/transformation_reference).
TRANSFORMATION_KEYS = frozenset(
    [
        "a",
        "ac",
        "af",
        "ar",
        "b",
        "bo",
        "br",
        "c",
        "co",
        "cs",
        "d",
        "dl",
        "dn",
        "dpr",
        "du",
        "e",
        "eo",
        "f",
        "fl",
        "fn",
        "fps",
        "g",
        "h",
        "if",
        "ki",
        "l",
        "o",
        "p",
        "pg",
        "q",
        "r",
        "so",
        "sp",
        "t",
        "u",
        "vc",
        "vs",
        "w",
        "x",
        "y",
        "z",
    ]
)
_PATH = re.compile(r"^/(?P<cloud>[A-Za-z0-9_-]+)/image/upload/(?P<rest>.+)$")
_VERSION = re.compile(r"^v\d+$")
_PARAMETER = re.compile(r"^(?P<key>\$?[a-z]+)_(?P<value>.+)$")
_EXTENSION = re.compile(r"^(?P<stem>.+)\.(?P<ext>[A-Za-z0-9]{1,5})$")
_PIXELS = re.compile(r"^[0-9]{1,9}$")  # ASCII digits only: "w_²" is no width
_FORBIDDEN_CHARACTERS = re.compile(r"[\s\\\x00-\x1f\x7f]")
_ESCAPE = re.compile(r"%[0-9A-Fa-f]{2}")
_ENCODED_SEPARATOR = re.compile(r"%(2f|5c)", re.IGNORECASE)
_UNRESERVED = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~")


class ImageUrlError(ValueError):
    """Why one URL is not an acceptable Cloudinary image URL."""


@dataclass(frozen=True)
class CloudinaryImage:
    """What a valid URL tells about its image."""

    url: str
    cloud_name: str
    public_id: str
    format: str | None
    width: int | None
    height: int | None


@dataclass(frozen=True)
class LinkedImage:
    """An image of a generation, as the plan's `files` table records it."""

    url: str
    role: str  # "product" or "model"
    order: int
    is_primary: bool
    public_id: str
    format: str | None
    width: int | None
    height: int | None


def _is_transformation(segment: str) -> bool:
    parts = segment.split(",")
    for part in parts:
        match = _PARAMETER.match(part)
        if match is None or (match["key"] not in TRANSFORMATION_KEYS and match["key"][0] != "$"):
            return False
    return True


def _dimension(transformations: Sequence[str], key: str) -> int | None:
    """The last integer `w_`/`h_` of the chain: the size the delivered image has."""
    value = None
    for segment in transformations:
        for part in segment.split(","):
            if part.startswith(f"{key}_") and _PIXELS.match(part[2:]):
                value = int(part[2:])
    return value


def _decode_unreserved(text: str) -> str:
    """`%2e` as `.`, `%41` as `A`; other escapes kept, in upper case (RFC 3986, 6.2.2)."""

    def decode(escape: re.Match[str]) -> str:
        character = chr(int(escape[0][1:], 16))
        return character if character in _UNRESERVED else escape[0].upper()

    return _ESCAPE.sub(decode, text)


def comparable_url(url: str) -> str:
    """The form two URLs are compared in when looking for repeats."""
    scheme, separator, rest = url.partition("://")
    if not separator:
        return _decode_unreserved(url)
    host, slash, path = rest.partition("/")
    return f"{scheme.lower()}://{host.lower()}{slash}{_decode_unreserved(path)}"


def _check_path(path: str) -> re.Match[str]:
    if _ENCODED_SEPARATOR.search(path):
        raise ImageUrlError("Image URL must not contain an encoded / or \\")
    if "fetch:" in unquote(path).lower():
        raise ImageUrlError("Image URL must not make Cloudinary fetch remote content")
    match = _PATH.match(path)
    if match is None:
        raise ImageUrlError("Image URL path must be /<cloud>/image/upload/<public id>")
    return match


def _check_address(url: str, allowed_clouds: Collection[str]) -> re.Match[str]:
    """The scheme, host and path shape rules; returns the path match (cloud and the rest)."""
    if len(url) > MAX_URL_LENGTH:
        raise ImageUrlError(f"Image URL is longer than {MAX_URL_LENGTH} characters")
    if _FORBIDDEN_CHARACTERS.search(url):
        raise ImageUrlError("Image URL contains whitespace, control characters or backslashes")
    try:
        parts = urlsplit(url)
    except ValueError:  # an unbalanced [ or ] around the host: no URL at all
        raise ImageUrlError("Image URL is not a valid URL") from None
    if parts.scheme != "https":
        raise ImageUrlError("Image URL must use https")
    if "?" in url:
        raise ImageUrlError("Image URL must not have a query string")
    if "#" in url:
        raise ImageUrlError("Image URL must not have a fragment")
    if "@" in parts.netloc:
        raise ImageUrlError("Image URL must not contain user information")
    if parts.netloc.startswith("["):  # an IPv6 address, not Cloudinary's host
        raise ImageUrlError(f"Only Cloudinary URLs on {CLOUDINARY_HOST} are allowed")
    if ":" in parts.netloc:
        raise ImageUrlError("Image URL must not name a port")
    if parts.netloc.lower() != CLOUDINARY_HOST:
        raise ImageUrlError(f"Only Cloudinary URLs on {CLOUDINARY_HOST} are allowed")
    match = _check_path(parts.path)
    if allowed_clouds and match["cloud"] not in allowed_clouds:
        raise ImageUrlError(f"Cloudinary cloud '{match['cloud']}' is not allowed")
    return match


def parse_cloudinary_url(url: str, allowed_clouds: Collection[str] = ()) -> CloudinaryImage:
    """Check `url` against the format rules (any cloud when `allowed_clouds` is empty)."""
    match = _check_address(url, allowed_clouds)
    cloud = match["cloud"]
    segments = match["rest"].split("/")
    if any(_decode_unreserved(segment) in ("", ".", "..") for segment in segments):
        raise ImageUrlError("Image URL path has empty or relative segments")

    position = 0
    while position < len(segments) and _is_transformation(segments[position]):
        position += 1
    transformations = segments[:position]
    if position < len(segments) and _VERSION.match(segments[position]):
        position += 1
    id_segments = segments[position:]
    if not id_segments:
        raise ImageUrlError("Image URL has no public id")

    image_format = None
    extension = _EXTENSION.match(id_segments[-1])
    if extension is not None:
        id_segments = [*id_segments[:-1], extension["stem"]]
        image_format = extension["ext"].lower()
    return CloudinaryImage(
        url=url,
        cloud_name=cloud,
        public_id="/".join(id_segments),
        format=image_format,
        width=_dimension(transformations, "w"),
        height=_dimension(transformations, "h"),
    )


def link_images(
    product_images: Sequence[str],
    model_images: Sequence[str],
    allowed_clouds: Collection[str] = (),
) -> list[LinkedImage]:
    """Every image parsed, the first of each role primary; InvalidImages names each bad field."""
    problems: list[FieldProblem] = []
    linked: list[LinkedImage] = []
    first_seen: dict[str, str] = {}
    for role, urls in (("product", product_images), ("model", model_images)):
        for order, url in enumerate(urls):
            field = f"{role}Images.{order}"
            comparable = comparable_url(url)
            if comparable in first_seen:
                problems.append(FieldProblem(field, f"Image URL repeats {first_seen[comparable]}"))
                continue
            first_seen[comparable] = field
            try:
                image = parse_cloudinary_url(url, allowed_clouds)
            except ImageUrlError as error:
                problems.append(FieldProblem(field, str(error)))
                continue
            linked.append(
                LinkedImage(
                    url=url,
                    role=role,
                    order=order,
                    is_primary=order == 0,
                    public_id=image.public_id,
                    format=image.format,
                    width=image.width,
                    height=image.height,
                )
            )
    if problems:
        raise InvalidImages("Invalid image URL. Only Cloudinary image URLs are allowed.", problems)
    return linked
