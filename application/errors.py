"""Refusals that come from the use cases rather than from an aggregate's rules."""

from __future__ import annotations

from domain.errors import DomainError


class AccountNotFound(DomainError):
    def __init__(self, user_id: str) -> None:
        super().__init__("User not found")
        self.user_id = user_id


class AccountExists(DomainError):
    def __init__(self, user_id: str) -> None:
        super().__init__(f"An account for {user_id} already exists.")
        self.user_id = user_id


class GenerationNotFound(DomainError):
    """Unknown, or another user's: the two look the same."""

    def __init__(self) -> None:
        super().__init__("Generation not found")


class SubmissionsClosed(DomainError):
    """GENERATION_ENABLED=false."""

    def __init__(self) -> None:
        super().__init__("Generation is temporarily unavailable. Please try again later.")


class Contention(DomainError):
    """A write lost its version race more times than the retry budget allows."""

    def __init__(self) -> None:
        super().__init__("The service is busy. Please retry shortly.")
