"""The custom prompt's cleaning and banned words, and the prompt sent to the model."""

from __future__ import annotations

import re
from collections.abc import Iterable

from domain.errors import FieldProblem, InvalidRequest
from domain.requests import Quality, Style

DEFAULT_BANNED_WORDS = ("explicit", "violent", "harmful")
STYLE_PROMPTS: dict[Style, str] = {
    "realistic": "photorealistic, high quality, professional photography",
    "artistic": "artistic interpretation, creative styling, aesthetic composition",
    "minimal": "clean, minimalist, simple background, professional product shot",
}
QUALITY_SUFFIXES: dict[Quality, str] = {
    "standard": "",
    "high": ", high resolution, detailed",
    "ultra": ", ultra high resolution, extremely detailed, professional studio lighting",
}

# The plan's sanitizer: a whole <script ...>...</script> block, then any `javascript:` scheme.
_SCRIPT_BLOCK = re.compile(r"<script\b[^<]*(?:(?!</script>)<[^<]*)*</script>", re.IGNORECASE)
_JAVASCRIPT_SCHEME = re.compile(r"javascript:", re.IGNORECASE)


def clean_custom_prompt(text: str | None) -> str | None:
    """Trimmed, without script blocks or `javascript:`; None when nothing is left."""
    if text is None:
        return None
    previous = None
    while previous != text:  # pieces can join up after a removal: `javajavascript:script:`
        previous = text
        text = _JAVASCRIPT_SCHEME.sub("", _SCRIPT_BLOCK.sub("", text))
    text = text.strip()
    return text or None


def banned_words_in(text: str, banned_words: Iterable[str]) -> list[str]:
    """The banned words that occur in `text` as whole words, ignoring case."""
    found = []
    for word in banned_words:
        if re.search(rf"(?<!\w){re.escape(word)}(?!\w)", text, re.IGNORECASE):
            found.append(word)
    return found


def checked_custom_prompt(text: str | None, banned_words: Iterable[str]) -> str | None:
    """The cleaned prompt, or InvalidRequest on `customPrompt` if it holds a banned word."""
    cleaned = clean_custom_prompt(text)
    if cleaned is None:
        return None
    found = banned_words_in(cleaned, banned_words)
    if found:
        message = "Custom prompt contains content that is not allowed: " + ", ".join(found)
        raise InvalidRequest(message, [FieldProblem("customPrompt", message)])
    return cleaned


def build_prompt(style: Style, quality: Quality, custom_prompt: str | None) -> str:
    """The prompt for the image model: base, style, the user's words, then quality modifiers."""
    prompt = f"Fashion model wearing the clothing item, {STYLE_PROMPTS[style]}"
    if custom_prompt:
        prompt += f", {custom_prompt}"
    return prompt + QUALITY_SUFFIXES[quality]
