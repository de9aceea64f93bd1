"""What the service reports about its own work (requests answered, submissions decided,
admission batches, webhook messages), as a port the infrastructure turns into metrics and logs."""

from __future__ import annotations

from contextvars import ContextVar
from dataclasses import dataclass
from typing import Protocol

UNMATCHED_ROUTE = "unmatched"  # the route label of a path no route matches: never the raw path

# The request a task or thread is answering, for whatever it logs; set by the web layer.
current_request_id: ContextVar[str | None] = ContextVar("current_request_id", default=None)


@dataclass(frozen=True, slots=True)
class AnsweredRequest:
    """One HTTP request once answered. `route` is the matched route's template;
    `code` the error code of a refusal or failure, None for a success."""

    method: str
    route: str
    status: int
    seconds: float
    request_id: str
    user_id: str | None
    code: str | None


class Telemetry(Protocol):
    def request_answered(self, request: AnsweredRequest) -> None: ...

    def submission_decided(self, outcome: str) -> None:
        """`accepted`, `replayed`, or the refusal's error code."""
        ...

    def admission_batch(self, size: int) -> None:
        """The group commit decided `size` submissions together."""
        ...

    def webhook_message(self, outcome: str) -> None:
        """A webhook delivery attempt ended with `outcome` (for the webhook deliverer)."""
        ...


class NoTelemetry:
    """Reports nothing: the default of an application built without an observer."""

    def request_answered(self, request: AnsweredRequest) -> None:
        pass

    def submission_decided(self, outcome: str) -> None:
        pass

    def admission_batch(self, size: int) -> None:
        pass

    def webhook_message(self, outcome: str) -> None:
        pass


NO_TELEMETRY = NoTelemetry()
