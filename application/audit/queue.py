"""The replay of the queue aggregate's events: it must count exactly the pending generations.

The capacity rule itself is checked from the generations' own statuses (generations.py), so a
queue aggregate that miscounted could not hide a breach; here the aggregate is held to the same
truth: queued once, left once, and at the end holding exactly the generations still pending.
"""

from __future__ import annotations

from typing import Any

from application.audit import violations as rule
from application.audit.reading import LoggedEvent, generation_key
from application.audit.state import ReplayState, generation


class QueueEvents(ReplayState):
    """Handlers of GenerationQueue's events."""

    def queue_event(self, notification: LoggedEvent) -> None:
        version = notification.originator_version
        if version != self.queue_version + 1:
            self.found.add(
                rule.VERSION_GAP,
                "queue",
                f"version {version} follows version {self.queue_version}",
                notification.id,
            )
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
            self.found.add(
                rule.QUEUE_MISMATCH,
                generation(key),
                "left the queue without being in it",
                notification.id,
            )

    def queue_at_end(self) -> None:
        """The queue aggregate must count exactly the generations that are pending."""
        for key, position in self.queued.items():
            if key not in self.pending:
                self.found.add(
                    rule.QUEUE_MISMATCH,
                    generation(key),
                    "still counted by the queue but no longer pending",
                    position,
                )
        for key, position in self.pending.items():
            if key not in self.queued:
                self.found.add(
                    rule.QUEUE_MISMATCH,
                    generation(key),
                    "pending but not counted by the queue",
                    position,
                )
