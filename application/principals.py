"""Who is calling: the principal a bearer token names, and the port that verifies tokens."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

ROLES = ("user", "admin", "worker")


class InvalidToken(Exception):
    """Missing, malformed, unsigned, wrongly signed, expired or incomplete."""


@dataclass(frozen=True)
class Principal:
    user_id: str
    role: str
    expires_at: float = float("inf")  # the token's `exp`, seconds since the epoch


class TokenVerification(Protocol):
    def verify(self, token: str) -> Principal:
        """The principal a token names, or InvalidToken."""
        ...
