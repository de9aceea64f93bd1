"""What a client asks for: the options of one generation, already checked for shape and type."""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass, field
from typing import Any, Literal, get_args

Style = Literal["realistic", "artistic", "minimal"]
Quality = Literal["standard", "high", "ultra"]
AspectRatio = Literal["1:1", "16:9", "9:16", "3:2", "2:3"]
STYLES: tuple[Style, ...] = get_args(Style)
QUALITIES: tuple[Quality, ...] = get_args(Quality)
ASPECT_RATIOS: tuple[AspectRatio, ...] = get_args(AspectRatio)


def fingerprint(value: Any) -> str:
    """A digest of plain values, to tell the same request from a different one."""
    canonical = json.dumps(value, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(canonical.encode()).hexdigest()


@dataclass(frozen=True)
class GenerationParameters:
    """Sampler settings passed through to the image model (the plan's `parameters`)."""

    guidance_scale: float = 7.5
    num_inference_steps: int = 50
    strength: float = 0.8
    seed: int | None = None

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class GenerationRequest:
    """A generation request of the right types and ranges; content rules are the use case's."""

    product_images: tuple[str, ...]
    style: Style
    aspect_ratio: AspectRatio
    quality: Quality
    model: str
    model_images: tuple[str, ...] = ()
    custom_prompt: str | None = None
    parameters: GenerationParameters = field(default_factory=GenerationParameters)

    def fingerprint(self) -> str:
        """A digest of the request's meaning, to tell a replay from a different request."""
        return fingerprint(asdict(self))
