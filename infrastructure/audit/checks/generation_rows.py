"""Each generation's row as its events set it, followed once for the two read models made of it."""

from __future__ import annotations

from typing import Any

from application.audit.checks.generations import TRANSITIONS
from application.audit.reading import moment_micros
from application.audit.state import PENDING, PROCESSING
from application.service import Atelier
from domain.generations import Generation
from infrastructure.audit.checks.view_check import ViewCheck
from infrastructure.audit.fingerprints import RowSums
from infrastructure.projections.view import ProjectionView

# The user-generations row without its key (the generation id), in the read model's order;
# the fields of GenerationRequested copied into it as they are.
COPIED: tuple[str, ...] = ("product_images", "model_images", "style", "aspect_ratio", "quality")
COPIED += ("model", "custom_prompt", "parameters", "prompt", "token_cost")
FINGERPRINTED = ("user_id", "seq", "status", *COPIED, "created_at", "updated_at", "started_at")
FINGERPRINTED += ("completed_at", "result_images", "error")
USER_ID, SEQ, STATUS = 0, 1, 2
CREATED_AT, UPDATED_AT, STARTED_AT, COMPLETED_AT, RESULT_IMAGES, ERROR = range(13, 19)
EVENT_CLASSES: frozenset[type[Any]] = frozenset({Generation.GenerationRequested, *TRANSITIONS})


class GenerationRows:
    """Running generations' rows (FINGERPRINTED order) and leases; ended ones as fingerprints."""

    def __init__(self) -> None:
        self.running: dict[int, list[Any]] = {}  # generation -> its row
        self.leases: dict[int, int] = {}  # running generation -> its lease's end, microseconds
        self.ended = RowSums()  # generation -> the fingerprint of its final row
        self.position = 0  # the last event applied

    def apply(self, position: int, key: int, cls: type[Any], data: dict[str, Any]) -> None:
        """One event of EVENT_CLASSES, in log order (the second check to ask finds it done)."""
        if position == self.position:
            return
        self.position = position
        if cls is Generation.GenerationRequested:
            at = moment_micros(data["requested_at"])
            copied = [data[field] for field in COPIED]
            self.running[key] = [data["user_id"], position, PENDING, *copied, at, at]
            self.running[key] += [None, None, (), None]
            return
        row = self.running.get(key)
        if row is None:
            return
        if cls is Generation.LeaseExtended:  # the lease alone: the user's row does not change
            self.leases[key] = moment_micros(data["lease_expires_at"])
            return
        row[STATUS] = status = TRANSITIONS[cls][1]
        row[UPDATED_AT] = at = moment_micros(data["at"])
        if status == PENDING:  # requeued
            row[STARTED_AT] = None
            self.leases.pop(key, None)
            return
        if status == PROCESSING:
            row[STARTED_AT] = at
            self.leases[key] = moment_micros(data["lease_expires_at"])
            return
        row[COMPLETED_AT] = at
        if cls is Generation.GenerationCompleted:
            row[RESULT_IMAGES] = data["result_images"]
        elif cls is Generation.GenerationFailed:
            row[ERROR] = data["reason"]
        self.ended.add(key, row)
        del self.running[key]
        self.leases.pop(key, None)

    def all_fingerprints(self) -> dict[int, int]:
        """Per generation, the fingerprint of its row as it stands now, ended or running."""
        sums = RowSums()
        sums.sums = dict(self.ended.sums)
        for key, row in self.running.items():
            sums.add(key, row)
        return sums.sums


class GenerationRowsCheck(ViewCheck):
    event_classes = EVENT_CLASSES

    def __init__(
        self, atelier: Atelier, view: ProjectionView, rows: GenerationRows | None = None
    ) -> None:
        super().__init__(atelier, view)
        self.rows = rows or GenerationRows()

    def observe(self, position: int, key: int, cls: type[Any], data: dict[str, Any]) -> None:
        self.rows.apply(position, key, cls, data)
