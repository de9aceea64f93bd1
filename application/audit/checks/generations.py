"""Generation's events: the state machine, the queue's capacity, and each generation's end."""

from __future__ import annotations

from typing import Any

from application.audit import violations as rule
from application.audit.reading import LoggedEvent
from application.audit.state import (
    CANCELLED,
    COMPLETED,
    EXPIRED,
    FAILED,
    PENDING,
    POSITION_BITS,
    POSITION_MASK,
    PROCESSING,
    SETTLEMENT,
    Life,
    ReplayState,
    generation,
    unpack,
)
from domain.generations import Generation

SAME_SAVE_SPAN = 16  # an end state and its token effect, saved together, sit this close
TRANSITIONS: dict[type[Any], tuple[frozenset[str], str]] = {  # -> (may leave, enters)
    Generation.GenerationStarted: (frozenset({PENDING}), PROCESSING),
    Generation.LeaseExtended: (frozenset({PROCESSING}), PROCESSING),
    Generation.GenerationRequeued: (frozenset({PROCESSING}), PENDING),
    Generation.GenerationCompleted: (frozenset({PROCESSING}), COMPLETED),
    Generation.GenerationFailed: (frozenset({PROCESSING}), FAILED),
    Generation.GenerationCancelled: (frozenset({PENDING}), CANCELLED),
    Generation.ProcessingCancelled: (frozenset({PROCESSING}), CANCELLED),
    Generation.GenerationExpired: (frozenset({PENDING}), EXPIRED),
}


class GenerationEvents(ReplayState):
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
        request_id = data["request_id"]
        if request_id is not None:
            self.once_per_request(f"{data['user_id']} {request_id}", key, position)
        self.pending[key] = position
        recorded = data.get("queue_capacity")  # judged by its own limit; older: the shell's
        self.capacity_now = self.queue_capacity if recorded is None else int(recorded)
        if len(self.pending) > self.capacity_now:
            if not self.over_capacity:
                why = f"{len(self.pending)} generations pending (capacity {self.capacity_now})"
                self.found.add(rule.QUEUE_CAPACITY, "queue", why, position)
            self.over_capacity = True
        if life.reservation:
            self.match(key, life)

    def once_per_request(self, request_id: str, key: int, position: int) -> None:
        """A user's request makes one generation: a second is the request recorded twice (by user,
        since a client may choose its own X-Request-ID)."""
        first = self.requests.setdefault(request_id, key << POSITION_BITS | position)
        if first >> POSITION_BITS != key:
            why = f"request {request_id} also made {generation(first >> POSITION_BITS)}"
            shown_by = (first & POSITION_MASK, position)
            self.found.add(rule.REQUEST_RECORDED_TWICE, generation(key), why, *shown_by)

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
            why = f"{name} after it ended {status}"
            self.found.add(rule.ILLEGAL_TRANSITION, generation(key), why, ended, notification.id)
            self.rejected = True
            return None
        version = notification.originator_version
        if version != life.version + 1:
            why = f"version {version} follows version {life.version}"
            self.found.add(rule.VERSION_GAP, generation(key), why, notification.id)
        life.version = version
        return key, life

    def image_linked(self, notification: LoggedEvent, cls: type[Any]) -> None:
        found = self.life(notification, cls)
        # Results are linked while processing, in the save that completes the generation.
        if found is not None and found[1].status not in (PENDING, PROCESSING):
            why = f"image linked while {found[1].status}"
            self.found.add(rule.ILLEGAL_TRANSITION, generation(found[0]), why, notification.id)
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
            why = f"{self.names[cls]} {how}"
            self.found.add(rule.ILLEGAL_TRANSITION, generation(key), why, *shown_by)
            self.rejected = True
            return
        if status == PENDING:
            self.pending.pop(key, None)
            if len(self.pending) <= self.capacity_now:
                self.over_capacity = False
        life.status = target
        if target == PENDING:  # requeued: counted again, beyond capacity if need be
            self.pending[key] = notification.id
        if target not in SETTLEMENT:
            return
        life.ended = notification.id
        if life.resolution is not None and life.ended - life.resolved > SAME_SAVE_SPAN:
            why = f"{life.resolution} while still {status}, before it ended {target}"
            self.found.add(rule.RESOLVED_EARLY, generation(key), why, life.resolved, life.ended)
        self.settle_if_done(key, life)

    def unsettled_at_end(self, key: int, life: Life) -> None:
        """What a generation still kept in full when the log ends is missing."""
        add, subject = self.found.add, generation(key)
        if life.status is None:
            why = f"{life.reserved_by} reserved tokens for a generation never requested"
            add(rule.RESERVATION_ORPHANED, subject, why, life.reservation)
            return
        if not life.reservation:
            why = f"{life.status} without a reservation of its cost ({life.cost})"
            add(rule.RESERVATION_MISSING, subject, why, life.requested)
        elif life.status in SETTLEMENT and life.resolution is None:
            why = f"ended {life.status} but its tokens are still reserved"
            add(rule.RESOLUTION_MISSING, subject, why, life.reservation, life.ended)
        if life.status not in SETTLEMENT and life.resolution is not None:
            why = f"{life.resolution} while still {life.status}"
            add(rule.RESOLVED_EARLY, subject, why, life.resolved)
