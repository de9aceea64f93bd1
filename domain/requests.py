"""What a client asks for: the options of one generation, already checked for shape and type."""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass, field
from typing import Any


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
    """A generation request whose fields have the right types and ranges.

    The content rules (prompt, model, image URLs) are checked by the submission use case, in the
    contract's order, because some of them depend on settings (banned words, cloud names).
    """

    product_images: tuple[str, ...]
    style: str
    aspect_ratio: str
    quality: str
    model: str
    model_images: tuple[str, ...] = ()
    custom_prompt: str | None = None
    parameters: GenerationParameters = field(default_factory=GenerationParameters)

    def fingerprint(self) -> str:
        """A digest of the request's meaning, to tell a replay from a different request."""
        canonical = json.dumps(asdict(self), sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(canonical.encode()).hexdigest()
