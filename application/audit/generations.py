"""The replay of generation events: each generation's state machine, re-derived and enforced.

Checked here: only legal transitions (pending -> processing -> completed | failed; pending ->
cancelled | expired), so nothing ever leaves an end state; never more pending generations than
the queue capacity; a capture or release made with the end state, not before it; and, at the
end of the log, every generation holding exactly one reservation, settled iff it ended.
"""

from __future__ import annotations

from typing import Any

from application import events
from application.audit import violations as rule
from application.audit.reading import LoggedEvent
from application.audit.state import (
    CANCELLED,
    COMPLETED,
    EXPIRED,
    FAILED,
    PENDING,
    PROCESSING,
    SETTLEMENT,
    Life,
    ReplayState,
    generation,
    unpack,
)

# A generation's end state and its token effect are saved in one transaction, so they sit
# within a few positions of each other; a capture or release further ahead of the end than
# this was made while the generation was still running.
SAME_SAVE_SPAN = 16

# event class -> (statuses it may leave, status it enters)
TRANSITIONS: dict[type[Any], tuple[frozenset[str], str]] = {
    events.GENERATION_STARTED: (frozenset({PENDING}), PROCESSING),
    events.GENERATION_COMPLETED: (frozenset({PROCESSING}), COMPLETED),
    events.GENERATION_FAILED: (frozenset({PROCESSING}), FAILED),
    events.GENERATION_CANCELLED: (frozenset({PENDING}), CANCELLED),
    events.GENERATION_EXPIRED: (frozenset({PENDING}), EXPIRED),
}


class GenerationEvents(ReplayState):
    """Handlers of Generation's events, and the end-of-log checks of each generation."""

    def requested(self, notification: LoggedEvent, cls: type[Any]) -> None:
        data = self.data(notification, cls)
        key = notification.key
        position = notification.id
        life = self.generations.get(key)
        if isinstance(life, int) or (life is not None and life.status is not None):
            self.flag(rule.ILLEGAL_TRANSITION, notification, "requested a second time")
            self.rejected = True
            return
        if notification.originator_version != 1:
            self.flag(rule.VERSION_GAP, notification, "requested at a version other than 1")
        if life is None:
            life = self.generations[key] = Life()
        life.status = PENDING
        life.user_id = str(data["user_id"])
        life.cost = int(data["token_cost"])
        life.version = notification.originator_version
        life.requested = position
        self.pending[key] = position
        if len(self.pending) > self.queue_capacity:
            if not self.over_capacity:
                self.found.add(
                    rule.QUEUE_CAPACITY,
                    "queue",
                    f"{len(self.pending)} generations pending (capacity {self.queue_capacity})",
                    position,
                )
            self.over_capacity = True
        if life.reservation:
            self.match(key, life)

    def life(self, notification: LoggedEvent, cls: type[Any]) -> tuple[int, Life] | None:
        """The generation an event belongs to, if it can still change; violations otherwise."""
        key = notification.key
        life = self.generations.get(key)
        name = self.names[cls]
        if life is None or (isinstance(life, Life) and life.status is None):
            self.flag(rule.ORPHAN_EVENT, notification, f"{name} of a generation never requested")
            self.rejected = True
            return None
        if isinstance(life, int):
            status, ended, _ = unpack(life)
            self.found.add(
                rule.ILLEGAL_TRANSITION,
                generation(key),
                f"{name} after it ended {status}",
                ended,
                notification.id,
            )
            self.rejected = True
            return None
        version = notification.originator_version
        if version != life.version + 1:
            self.found.add(
                rule.VERSION_GAP,
                generation(key),
                f"version {version} follows version {life.version}",
                notification.id,
            )
        life.version = version
        return key, life

    def image_linked(self, notification: LoggedEvent, cls: type[Any]) -> None:
        found = self.life(notification, cls)
        if found is not None and found[1].status != PENDING:
            self.found.add(
                rule.ILLEGAL_TRANSITION,
                generation(found[0]),
                f"image linked while {found[1].status}",
                notification.id,
            )
            self.rejected = True

    def transition(self, notification: LoggedEvent, cls: type[Any]) -> None:
        found = self.life(notification, cls)
        if found is None:
            return
        key, life = found
        allowed, target = TRANSITIONS[cls]
        status = life.status
        if status not in allowed:
            how = f"after it ended {status}" if status in SETTLEMENT else f"while {status}"
            shown_by = (life.ended, notification.id) if life.ended else (notification.id,)
            self.found.add(
                rule.ILLEGAL_TRANSITION, generation(key), f"{self.names[cls]} {how}", *shown_by
            )
            self.rejected = True
            return
        if status == PENDING:
            self.pending.pop(key, None)
            if len(self.pending) <= self.queue_capacity:
                self.over_capacity = False
        life.status = target
        if target not in SETTLEMENT:
            return
        life.ended = notification.id
        if life.resolution is not None and life.ended - life.resolved > SAME_SAVE_SPAN:
            self.found.add(
                rule.RESOLVED_EARLY,
                generation(key),
                f"{life.resolution} while still {status}, before it ended {target}",
                life.resolved,
                life.ended,
            )
        self.settle_if_done(key, life)

    def unsettled_at_end(self, key: int, life: Life) -> None:
        """What a generation still kept in full when the log ends is missing."""
        if life.status is None:
            self.found.add(
                rule.RESERVATION_ORPHANED,
                generation(key),
                f"{life.reserved_by} reserved tokens for a generation never requested",
                life.reservation,
            )
            return
        if not life.reservation:
            self.found.add(
                rule.RESERVATION_MISSING,
                generation(key),
                f"{life.status} without a reservation of its cost ({life.cost})",
                life.requested,
            )
        elif life.status in SETTLEMENT and life.resolution is None:
            self.found.add(
                rule.RESOLUTION_MISSING,
                generation(key),
                f"ended {life.status} but its tokens are still reserved",
                life.reservation,
                life.ended,
            )
        if life.status not in SETTLEMENT and life.resolution is not None:
            self.found.add(
                rule.RESOLVED_EARLY,
                generation(key),
                f"{life.resolution} while still {life.status}",
                life.resolved,
            )
