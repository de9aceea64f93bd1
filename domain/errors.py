"""Why the domain refuses a command. The web layer maps each class to a status and a code."""

from __future__ import annotations

from dataclasses import dataclass


class DomainError(Exception):
    """A command that the rules of the domain refuse."""


@dataclass(frozen=True)
class FieldProblem:
    """One problem with one field of a request, named by its JSON path as the client sent it."""

    field: str
    message: str


class InvalidRequest(DomainError):
    """The request breaks a rule about its content (the prompt, for instance)."""

    def __init__(self, message: str, problems: list[FieldProblem]) -> None:
        super().__init__(message)
        self.problems = problems


class ModelUnavailable(DomainError):
    """The model is not in the catalogue, is disabled, or does not support the aspect ratio."""


class InvalidImages(DomainError):
    """One or more image URLs break the Cloudinary URL rules or cannot be reached."""

    def __init__(self, message: str, problems: list[FieldProblem]) -> None:
        super().__init__(message)
        self.problems = problems


class AccountDisabled(DomainError):
    """The account exists but may not be used."""


class RateLimitExceeded(DomainError):
    def __init__(self, limit: int, retry_after_seconds: int) -> None:
        super().__init__("Rate limit exceeded. Please wait before making another request.")
        self.limit = limit
        self.retry_after_seconds = retry_after_seconds


class InsufficientTokens(DomainError):
    def __init__(self, required: int, available: int) -> None:
        super().__init__(f"Insufficient tokens. Required: {required}, Available: {available}")
        self.required = required
        self.available = available

    @property
    def shortfall(self) -> int:
        return self.required - self.available


class QueueFull(DomainError):
    def __init__(self, capacity: int) -> None:
        super().__init__("Generation queue is at capacity. Please try again later.")
        self.capacity = capacity


class IdempotencyKeyReused(DomainError):
    def __init__(self) -> None:
        super().__init__(
            "This Idempotency-Key was already used with a different request. "
            "Use a new key for a new request."
        )


class InvalidTransition(DomainError):
    """The aggregate's state machine does not allow this command in its current state."""


class InvalidAmount(DomainError):
    """A token amount outside what the account accepts."""
