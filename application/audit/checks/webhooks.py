"""Webhooks: every generation event an endpoint subscribed to has exactly one message, and every
message ends succeeded, failed after the whole schedule (or its endpoint's deletion), or
pending with its next attempt not overdue."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from application.audit import violations as rule
from application.audit.reading import LoggedEvent, generation_key, moment_micros
from application.audit.state import ReplayState
from domain.webhook_types import TYPE_OF_EVENT

OVERDUE_MICROS = 60 * 1_000_000  # a pending message may wait this long past its due time


@dataclass(slots=True)
class MessageLife:
    status: str
    next_attempt: int | None  # micros
    round_attempts: int
    created: int  # position


def message(key: int) -> str:
    return f"webhook message {key:032x}"


class WebhookEvents(ReplayState):
    retry_schedule: tuple[int, ...]
    audited_at: int  # micros: "now" for the overdue rule

    def webhooks_start(self, retry_schedule: tuple[int, ...], audited_at: int) -> None:
        self.retry_schedule = retry_schedule
        self.audited_at = audited_at
        self.subscribed: dict[int, frozenset[str]] = {}  # endpoint -> the types it wants
        self.awaited: dict[tuple[int, int, int], int] = {}  # (endpoint, generation, version)
        self.messages: dict[int, MessageLife] = {}

    def endpoint_created(self, notification: LoggedEvent, cls: type[Any]) -> None:
        events = self.data(notification, cls)["events"]
        self.subscribed[notification.key] = frozenset(events)

    def endpoint_deleted(self, notification: LoggedEvent, cls: type[Any]) -> None:
        self.subscribed.pop(notification.key, None)

    def awaiting_messages(self, notification: LoggedEvent, cls: type[Any]) -> None:
        """A generation event: each endpoint subscribed to its type now owes one message."""
        webhook_type = TYPE_OF_EVENT[cls]
        for endpoint, events in self.subscribed.items():
            if webhook_type in events:
                event = (endpoint, notification.key, notification.originator_version)
                self.awaited[event] = notification.id

    def message_created(self, notification: LoggedEvent, cls: type[Any]) -> None:
        data = self.data(notification, cls)
        event = (
            generation_key(data["endpoint_id"]),
            generation_key(data["generation_id"]),
            int(data["generation_version"]),
        )
        if self.awaited.pop(event, None) is None:
            why = "no subscribed endpoint awaited it (or it was sent twice)"
            self.found.add(rule.WEBHOOK_UNEXPECTED, message(notification.key), why, notification.id)
        created = moment_micros(data["created_at"])
        self.messages[notification.key] = MessageLife("pending", created, 0, notification.id)

    def attempt_recorded(self, notification: LoggedEvent, cls: type[Any]) -> None:
        life = self._life(notification)
        if life is None:
            return
        data = self.data(notification, cls)
        code = data["status_code"]
        life.round_attempts += 1
        following = data["next_attempt_at"]
        if code is not None and 200 <= int(code) < 300:
            life.status, life.next_attempt = "succeeded", None
        elif following is None:
            life.status, life.next_attempt = "failed", None
            if life.round_attempts != len(self.retry_schedule) + 1:
                why = (
                    f"failed after {life.round_attempts} attempts; the schedule makes "
                    f"{len(self.retry_schedule) + 1}"
                )
                self.found.add(
                    rule.WEBHOOK_UNSETTLED, message(notification.key), why, notification.id
                )
        else:
            life.next_attempt = moment_micros(following)

    def retry_requested(self, notification: LoggedEvent, cls: type[Any]) -> None:
        life = self._life(notification)
        if life is not None:
            life.status, life.round_attempts = "pending", 0
            life.next_attempt = moment_micros(self.data(notification, cls)["at"])

    def message_abandoned(self, notification: LoggedEvent, cls: type[Any]) -> None:
        life = self._life(notification)
        if life is not None:
            life.status, life.next_attempt = "failed", None

    def _life(self, notification: LoggedEvent) -> MessageLife | None:
        life = self.messages.get(notification.key)
        if life is None:
            self.flag(rule.ORPHAN_EVENT, notification, "an event of a message never created")
        return life

    def webhooks_at_end(self) -> None:
        for (endpoint, key, version), position in self.awaited.items():
            why = f"no message to endpoint {endpoint:032x} for version {version} of {key:032x}"
            self.found.add(rule.WEBHOOK_MISSING, f"generation {key:032x}", why, position)
        for key, life in self.messages.items():
            due = life.next_attempt
            if (
                life.status == "pending"
                and due is not None
                and due < self.audited_at - OVERDUE_MICROS
            ):
                why = "pending, its next attempt overdue by more than a minute"
                self.found.add(rule.WEBHOOK_UNSETTLED, message(key), why, life.created)
