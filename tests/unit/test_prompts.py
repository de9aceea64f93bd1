"""Custom prompt cleaning, the banned-word policy, and the plan's prompt builder."""

from __future__ import annotations

import pytest

from domain.errors import InvalidRequest
from domain.prompts import build_prompt, checked_custom_prompt, clean_custom_prompt


def test_prompt_builder_follows_the_plan() -> None:
    assert build_prompt("realistic", "standard", None) == (
        "Fashion model wearing the clothing item, "
        "photorealistic, high quality, professional photography"
    )
    assert build_prompt("minimal", "high", "blue sky") == (
        "Fashion model wearing the clothing item, clean, minimalist, simple background, "
        "professional product shot, blue sky, high resolution, detailed"
    )
    assert build_prompt("artistic", "ultra", None).endswith(
        "aesthetic composition, ultra high resolution, extremely detailed, "
        "professional studio lighting"
    )


@pytest.mark.parametrize(
    ("raw", "clean"),
    [
        ("  summer look  ", "summer look"),
        ("a <script>alert(1)</script> b", "a  b"),
        ("<SCRIPT type='x'>x</SCRIPT>beach", "beach"),
        ("click javascript:alert(1)", "click alert(1)"),
        ("javajavascript:script:go", "go"),
        ("<script>only</script>", None),
        ("   ", None),
        (None, None),
    ],
)
def test_cleaning_trims_and_removes_scripts(raw: str | None, clean: str | None) -> None:
    assert clean_custom_prompt(raw) == clean


@pytest.mark.parametrize("prompt", ["Explicit pose", "a VIOLENT storm", "harmful.", "(harmful)"])
def test_banned_words_are_refused_as_whole_words_ignoring_case(prompt: str) -> None:
    with pytest.raises(InvalidRequest) as caught:
        checked_custom_prompt(prompt, ("explicit", "violent", "harmful"))
    assert [p.field for p in caught.value.problems] == ["customPrompt"]


@pytest.mark.parametrize("prompt", ["inexplicit style", "harmfully bright", "nonviolent", "x"])
def test_words_that_merely_contain_a_banned_word_are_allowed(prompt: str) -> None:
    assert checked_custom_prompt(prompt, ("explicit", "violent", "harmful")) == prompt


def test_banned_words_are_checked_after_cleaning() -> None:
    assert checked_custom_prompt("<script>explicit</script> calm", ("explicit",)) == "calm"
