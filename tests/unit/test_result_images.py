"""Result images a worker hands back: 1-4 absolute https URLs, each named by its field path."""

from __future__ import annotations

import pytest

from domain.errors import InvalidRequest
from domain.results import check_result_images, result_url_problem

GOOD = "https://oaidalleapiprodscus.blob.core.windows.net/private/img-1.png?sig=abc"


@pytest.mark.parametrize(
    ("url", "problem"),
    [
        (GOOD, None),
        ("https://res.cloudinary.com/demo/image/upload/ar_1:1/x.jpg", None),
        ("http://cdn.example.com/a.png", "Result image URL must be an absolute https URL"),
        ("/relative/a.png", "Result image URL must be an absolute https URL"),
        ("javascript:alert(1)", "Result image URL must be an absolute https URL"),
        (
            "https://user:pw@cdn.example.com/a.png",
            "Result image URL must not contain user information",
        ),
        ("https:///a.png", "Result image URL must name a host"),
        ("https://cdn.example.com[/a.png", "Result image URL is not a valid URL"),  # fuzzing
        ("https://[::1/a.png", "Result image URL is not a valid URL"),
        (
            "https://cdn.example.com/a b.png",
            "Result image URL contains whitespace, control characters or backslashes",
        ),
        (
            "https://cdn.example.com/" + "a" * 2048,
            "Result image URL is longer than 2048 characters",
        ),
    ],
)
def test_each_url_rule(url: str, problem: str | None) -> None:
    assert result_url_problem(url) == problem


@pytest.mark.parametrize("count", [0, 5])
def test_one_to_four_images(count: int) -> None:
    urls = [f"https://cdn.example.com/{n}.png" for n in range(count)]
    with pytest.raises(InvalidRequest) as refused:
        check_result_images(urls)
    assert [p.field for p in refused.value.problems] == ["resultImages"]


def test_problems_name_each_offending_field() -> None:
    with pytest.raises(InvalidRequest) as refused:
        check_result_images([GOOD, "ftp://x/y.png", GOOD])
    assert [(p.field, p.message) for p in refused.value.problems] == [
        ("resultImages.1", "Result image URL must be an absolute https URL"),
        ("resultImages.2", "Result image repeats resultImages.0"),
    ]
