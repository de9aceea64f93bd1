"""The image models a generation may ask for, and what each supports."""

from __future__ import annotations

from dataclasses import dataclass

from domain.errors import ModelUnavailable
from domain.requests import ASPECT_RATIOS


@dataclass(frozen=True)
class ImageModel:
    """A model in the catalogue: its identifier, whether it is on, its aspect ratios, and
    whether the generation's photos are sent to it (image edit) or only its prompt."""

    name: str
    enabled: bool
    aspect_ratios: tuple[str, ...]
    input_images: bool = True


CATALOGUE: dict[str, ImageModel] = {
    "gpt-4.1-dalle-3": ImageModel(
        name="gpt-4.1-dalle-3",
        enabled=True,
        aspect_ratios=ASPECT_RATIOS,
        input_images=True,  # served by OPENAI_IMAGE_MODEL's image edit, photos in
    ),
}


def require_model(name: str, aspect_ratio: str) -> ImageModel:
    """The catalogue entry for `name`, if it is enabled and supports `aspect_ratio`."""
    model = CATALOGUE.get(name)
    if model is None:
        known = ", ".join(sorted(CATALOGUE))
        raise ModelUnavailable(f"Unknown model '{name}'. Available models: {known}.")
    if not model.enabled:
        raise ModelUnavailable(f"Model '{name}' is not enabled.")
    if aspect_ratio not in model.aspect_ratios:
        supported = ", ".join(model.aspect_ratios)
        raise ModelUnavailable(
            f"Model '{name}' does not support aspect ratio {aspect_ratio}. Supported: {supported}."
        )
    return model
