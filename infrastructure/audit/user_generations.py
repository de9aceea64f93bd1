"""The user-generations read model against the replay: one row per generation, every field of
it as the generation's events set it. Compared by fingerprint per generation, so a million
generations cost a million integers, not a million rows."""

from __future__ import annotations

from typing import Any
from uuid import UUID

import orjson

from application import events
from application.audit import violations as rule
from application.audit.reading import generation_key, moment_micros
from application.audit.replay import Replay
from infrastructure.audit.consistent_read import ViewReader
from infrastructure.audit.fingerprints import RowSums, differing, fingerprint
from infrastructure.audit.view_check import ViewCheck, generation_positions, replayed_status

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
JSON_AT = tuple(at for at, column in enumerate(FINGERPRINTED) if column in JSON_COLUMNS)
STATUS = FINGERPRINTED.index("status")
SEQ = FINGERPRINTED.index("seq")
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

    def observe(self, position: int, key: int, cls: type[Any], data: dict[str, Any]) -> None:
        if cls is events.GENERATION_REQUESTED:
            at = moment_micros(data["requested_at"])
            self.running[key] = [
                data["user_id"],
                position,  # seq
                "pending",
                data["product_images"],
                data["model_images"],
                data["style"],
                data["aspect_ratio"],
                data["quality"],
                data["model"],
                data["custom_prompt"],
                data["parameters"],
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
        at = moment_micros(data["at"])
        row[UPDATED_AT] = at
        if cls is events.GENERATION_STARTED:
            row[STATUS] = "processing"
            row[STARTED_AT] = at
            return
        row[STATUS] = ENDS[cls]
        row[COMPLETED_AT] = at
        if cls is events.GENERATION_COMPLETED:
            row[RESULT_IMAGES] = data["result_images"]
        elif cls is events.GENERATION_FAILED:
            row[ERROR] = data["reason"]
        self.expected.add(key, row)
        del self.running[key]

    @staticmethod
    def read(reader: ViewReader) -> dict[int, tuple[int, str, int]]:
        """Per generation: its row's fingerprint, and its status and seq to name a difference."""
        held = {}
        for page in reader.pages("user_generations", COLUMNS, ("generation_id",)):
            for generation_id, *values in page:
                for at in JSON_AT:
                    values[at] = orjson.loads(values[at])
                held[generation_key(generation_id)] = (
                    fingerprint(values),
                    values[STATUS],
                    values[SEQ],
                )
        return held

    def differences(self, held: dict[int, tuple[int, str, int]], replay: Replay) -> int:
        for key, row in self.running.items():
            self.expected.add(key, row)
        self.running.clear()
        subject = f"read model {self.name}"
        unknown, different = differing(
            self.expected.sums, {key: found[0] for key, found in held.items()}
        )
        for key in unknown:
            replay.found.add(
                rule.PROJECTION_MISMATCH,
                subject,
                f"generation {UUID(int=key)} is listed but was never requested",
                held[key][2],
            )
        for key in different:
            if key in held:
                why = (
                    f"generation {UUID(int=key)}'s row differs from its events "
                    f"(status {held[key][1]!r}; replay: {replayed_status(replay, key)!r})"
                )
            else:
                why = f"generation {UUID(int=key)} is missing"
            replay.found.add(
                rule.PROJECTION_MISMATCH, subject, why, *generation_positions(replay, key)
            )
        return len(unknown) + len(different)
