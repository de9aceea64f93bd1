"""Who is calling: the principal a bearer token names, and the port that verifies tokens."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol


class InvalidToken(Exception):
    """The token is missing, malformed, unsigned, wrongly signed, expired or incomplete."""


@dataclass(frozen=True)
class Principal:
    """Who is calling: the token's subject and role, until the token expires."""

    user_id: str
    role: str
    expires_at: float = float("inf")  # the token's `exp`, seconds since the epoch


class TokenVerification(Protocol):
    def verify(self, token: str) -> Principal:
        """The principal a token names, or InvalidToken."""
        ...
