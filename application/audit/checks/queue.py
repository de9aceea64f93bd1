"""GenerationQueue's events: the queue aggregate must count exactly the pending generations."""

from __future__ import annotations

from typing import Any

from application.audit import violations as rule
from application.audit.reading import LoggedEvent, generation_key
from application.audit.state import ReplayState, generation


class QueueEvents(ReplayState):
    def queue_event(self, notification: LoggedEvent) -> None:
        version = notification.originator_version
        if version != self.queue_version + 1:
            why = f"version {version} follows version {self.queue_version}"
            self.found.add(rule.VERSION_GAP, "queue", why, notification.id)
        self.queue_version = version

    def queue_opened(self, notification: LoggedEvent, cls: type[Any]) -> None:
        self.queue_event(notification)

    def queued_generation(self, notification: LoggedEvent, cls: type[Any]) -> None:
        self.queue_event(notification)
        key = generation_key(self.data(notification, cls)["generation_id"])
        if key in self.queued:
            shown_by = (self.queued[key], notification.id)
            self.found.add(rule.QUEUE_MISMATCH, generation(key), "queued twice", *shown_by)
        self.queued[key] = notification.id

    def left_queue(self, notification: LoggedEvent, cls: type[Any]) -> None:
        self.queue_event(notification)
        key = generation_key(self.data(notification, cls)["generation_id"])
        if self.queued.pop(key, None) is None:
            why = "left the queue without being in it"
            self.found.add(rule.QUEUE_MISMATCH, generation(key), why, notification.id)

    def queue_at_end(self) -> None:
        """The queue aggregate must count exactly the generations that are pending."""
        for key, position in self.queued.items():
            if key not in self.pending:
                why = "still counted by the queue but no longer pending"
                self.found.add(rule.QUEUE_MISMATCH, generation(key), why, position)
        for key, position in self.pending.items():
            if key not in self.queued:
                why = "pending but not counted by the queue"
                self.found.add(rule.QUEUE_MISMATCH, generation(key), why, position)
