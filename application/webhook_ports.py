"""What webhook use cases need from outside: a URL check that resolves names."""

from __future__ import annotations

from typing import Protocol


class UrlCheck(Protocol):
    """Whether a URL may receive webhooks now (API.md's rules, with a fresh DNS answer)."""

    def refusal(self, url: str) -> str | None:
        """Why `url` may not be called now, or None."""
        ...
