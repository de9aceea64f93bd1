"""The dry-run stand-in: deterministic, offline, labelled, Cloudinary transformations only."""

from __future__ import annotations

import logging
import threading

import pytest

from application.ports import GenerationJob, GeneratorFailure
from domain.results import check_result_images
from infrastructure.generators.dry_run import DryRunGenerator
from tests.support.builders import PRODUCT_URL, generation_job

SHIRT = PRODUCT_URL


def urls_of(job: GenerationJob) -> list[str]:
    return [result.url for result in DryRunGenerator().generate(job, threading.Event())]


SHOE = "https://res.cloudinary.com/shop/image/upload/v2/shoes/red.png"


def test_results_are_labelled_transformations_of_the_product_image() -> None:
    (url,) = urls_of(generation_job(aspect_ratio="16:9", style="artistic", quality="high"))
    assert url == (
        "https://res.cloudinary.com/demo/image/upload/"
        "c_fill,g_auto,ar_16:9,w_1792/e_art:zorro/q_auto:best/"
        "l_text:Arial_32_bold:DRY-RUN,co_white,g_south_east,x_24,y_24/"
        "shirts/blue-oxford.jpg"
    )


def test_the_same_generation_always_gets_the_same_results() -> None:
    assert urls_of(generation_job()) == urls_of(generation_job())


def test_one_result_per_product_image_up_to_four_and_all_acceptable() -> None:
    five = tuple(f"https://res.cloudinary.com/demo/image/upload/v1/item-{n}.jpg" for n in range(5))
    urls = urls_of(generation_job(product_images=five))
    assert len(urls) == 4
    assert check_result_images(urls) == urls
    second = urls_of(generation_job(product_images=(SHIRT, SHOE)))[1]
    assert second.startswith("https://res.cloudinary.com/shop/") and second.endswith(
        "/shoes/red.png"
    )


def test_it_says_it_is_a_stand_in(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.INFO, logger="infrastructure.generators.dry_run"):
        urls_of(generation_job())
    messages = " ".join(record.getMessage() for record in caplog.records)
    assert "stand-in" in messages
    assert any(record.levelno == logging.WARNING for record in caplog.records)


def test_an_unreadable_product_image_is_a_clear_failure() -> None:
    with pytest.raises(GeneratorFailure, match="Dry-run stand-in could not read"):
        urls_of(generation_job(product_images=("https://example.com/x.jpg",)))
