"""GENERATOR=dry-run: a deterministic, offline STAND-IN for an image model, which generates nothing.

Results are Cloudinary transformations of the product images, stamped with a visible "DRY-RUN".
"""

from __future__ import annotations

import logging

from application.ports import GenerationJob, GeneratorFailure, StopSignal
from domain.images import ImageUrlError, parse_cloudinary_url
from domain.results import ResultImage

logger = logging.getLogger(__name__)

MAX_RESULTS = 4
LABEL = "l_text:Arial_32_bold:DRY-RUN,co_white,g_south_east,x_24,y_24"
WIDTHS = {"1:1": 1024, "16:9": 1792, "9:16": 1024, "3:2": 1536, "2:3": 1024}
STYLE_EFFECTS = {"realistic": "e_improve", "artistic": "e_art:zorro", "minimal": "e_grayscale"}
QUALITIES = {"standard": "q_auto:good", "high": "q_auto:best", "ultra": "q_100"}


class DryRunGenerator:
    name = "dry-run"

    def __init__(self) -> None:
        logger.warning(
            "GENERATOR=dry-run: a stand-in that calls no model and generates no images; "
            "generations complete with "
            "Cloudinary transformations of their own product images, stamped DRY-RUN"
        )

    def generate(self, job: GenerationJob, stop: StopSignal) -> list[ResultImage]:
        """One result per product image (at most 4), in the request's order."""
        results = [
            ResultImage.of_url(self.result_url(url, job))
            for url in job.product_images[:MAX_RESULTS]
        ]
        logger.info(
            "dry-run stand-in completed generation %s (no model was called)", job.generation_id
        )
        return results

    @staticmethod
    def result_url(product_url: str, job: GenerationJob) -> str:
        try:
            image = parse_cloudinary_url(product_url)
        except ImageUrlError as error:
            raise GeneratorFailure(
                f"Dry-run stand-in could not read a product image: {error}"
            ) from None
        chain = "/".join(
            [
                f"c_fill,g_auto,ar_{job.aspect_ratio},w_{WIDTHS.get(job.aspect_ratio, 1024)}",
                STYLE_EFFECTS.get(job.style, "e_improve"),
                QUALITIES.get(job.quality, "q_auto"),
                LABEL,
            ]
        )
        extension = image.format or "jpg"
        return (
            f"https://res.cloudinary.com/{image.cloud_name}/image/upload/{chain}/"
            f"{image.public_id}.{extension}"
        )
