"""Where Cloudinary image URLs are fetched from: CLOUDINARY_DELIVERY_URL stands in for
`https://res.cloudinary.com` (the HEAD check and the worker's downloads); the URL recorded stays."""

from __future__ import annotations

from domain.images import CLOUDINARY_HOST, ImageUrlError

DEFAULT_DELIVERY_URL = f"https://{CLOUDINARY_HOST}"


def delivery_address(url: str, delivery_base: str = DEFAULT_DELIVERY_URL) -> str:
    """`https://res.cloudinary.com/<path>` as `<delivery_base>/<path>`."""
    prefix = f"https://{CLOUDINARY_HOST}/"
    if not url.startswith(prefix):
        raise ImageUrlError("Image URL is not a Cloudinary delivery URL")
    return f"{delivery_base.rstrip('/')}/{url[len(prefix) :]}"
