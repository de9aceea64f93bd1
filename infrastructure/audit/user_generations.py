"""The user-generations read model against the replay: one row per generation, every field of
it as the generation's events set it. Compared by fingerprint per generation, so a million
generations cost a million integers, not a million rows."""

from __future__ import annotations

import json
from typing import Any
from uuid import UUID

from application import events
from application.audit import violations as rule
from application.audit.reading import generation_key, moment
from application.audit.replay import Replay
from infrastructure.audit.consistent_read import ViewReader
from infrastructure.audit.fingerprints import RowSums, frozen
from infrastructure.audit.view_check import ViewCheck, generation_positions, replayed_status
from infrastructure.projections.sql import micros

COLUMNS = (
    "generation_id",
    "user_id",
    "seq",
    "status",
    "product_images",
    "model_images",
    "style",
    "aspect_ratio",
    "quality",
    "model",
    "custom_prompt",
    "parameters",
    "prompt",
    "token_cost",
    "created_at",
    "updated_at",
    "started_at",
    "completed_at",
    "result_images",
    "error",
)
JSON_COLUMNS = frozenset({"product_images", "model_images", "parameters", "result_images"})
# The row's key is the generation id: the fingerprint, kept per generation, covers the rest.
FINGERPRINTED = COLUMNS[1:]
STATUS = FINGERPRINTED.index("status")
UPDATED_AT = FINGERPRINTED.index("updated_at")
STARTED_AT = FINGERPRINTED.index("started_at")
COMPLETED_AT = FINGERPRINTED.index("completed_at")
RESULT_IMAGES = FINGERPRINTED.index("result_images")
ERROR = FINGERPRINTED.index("error")
ENDS: dict[type[Any], str] = {
    events.GENERATION_COMPLETED: "completed",
    events.GENERATION_FAILED: "failed",
    events.GENERATION_CANCELLED: "cancelled",
    events.GENERATION_EXPIRED: "expired",
}


class UserGenerationsCheck(ViewCheck):
    """Keeps running generations' rows in full, and an ended generation's as a fingerprint."""

    event_classes = frozenset({events.GENERATION_REQUESTED, events.GENERATION_STARTED, *ENDS})

    def __init__(self, *args: Any) -> None:
        super().__init__(*args)
        self.running: dict[int, list[Any]] = {}  # generation -> its row, FINGERPRINTED order
        self.expected = RowSums()

    def observe(
        self, position: int, originator_id: UUID, cls: type[Any], data: dict[str, Any]
    ) -> None:
        key = originator_id.int
        if cls is events.GENERATION_REQUESTED:
            at = micros(moment(data["requested_at"]))
            self.running[key] = [
                data["user_id"],
                position,  # seq
                "pending",
                tuple(data["product_images"]),
                tuple(data["model_images"]),
                data["style"],
                data["aspect_ratio"],
                data["quality"],
                data["model"],
                data["custom_prompt"],
                frozen(data["parameters"]),
                data["prompt"],
                data["token_cost"],
                at,  # created_at
                at,  # updated_at
                None,  # started_at
                None,  # completed_at
                (),  # result_images
                None,  # error
            ]
            return
        row = self.running.get(key)
        if row is None:
            return
        at = micros(moment(data["at"]))
        row[UPDATED_AT] = at
        if cls is events.GENERATION_STARTED:
            row[STATUS] = "processing"
            row[STARTED_AT] = at
            return
        row[STATUS] = ENDS[cls]
        row[COMPLETED_AT] = at
        if cls is events.GENERATION_COMPLETED:
            row[RESULT_IMAGES] = tuple(data["result_images"])
        elif cls is events.GENERATION_FAILED:
            row[ERROR] = data["reason"]
        self.expected.expect(key, tuple(row))
        del self.running[key]

    def differences(self, reader: ViewReader, replay: Replay) -> int:
        for key, row in self.running.items():
            self.expected.expect(key, tuple(row))
        self.running.clear()
        count = 0
        subject = f"read model {self.name}"
        for page in reader.pages("user_generations", COLUMNS, ("generation_id",)):
            for held in page:
                values = tuple(
                    frozen(json.loads(held[c])) if c in JSON_COLUMNS else held[c]
                    for c in FINGERPRINTED
                )
                key = generation_key(held["generation_id"])
                if not self.expected.found(key, values):
                    count += 1
                    replay.found.add(
                        rule.PROJECTION_MISMATCH,
                        subject,
                        f"generation {held['generation_id']} is listed but was never requested",
                        held["seq"],
                    )
                elif self.expected.sums[key]:
                    count += 1
                    replay.found.add(
                        rule.PROJECTION_MISMATCH,
                        subject,
                        f"generation {held['generation_id']}'s row differs from its events "
                        f"(status {values[STATUS]!r}; replay: {replayed_status(replay, key)!r})",
                        *generation_positions(replay, key),
                    )
                    del self.expected.sums[key]
                else:
                    del self.expected.sums[key]
        for key in self.expected.unmatched():
            count += 1
            replay.found.add(
                rule.PROJECTION_MISMATCH,
                subject,
                f"generation {UUID(int=key)} is missing",
                *generation_positions(replay, key),
            )
        return count
