"""The user-generations read model: every field of every generation's row, by fingerprint."""

from __future__ import annotations

from uuid import UUID

import orjson

from application.audit import violations as rule
from application.audit.reading import generation_key
from application.audit.replay import Replay
from infrastructure.audit.checks.generation_rows import (
    FINGERPRINTED,
    SEQ,
    STATUS,
    GenerationRowsCheck,
)
from infrastructure.audit.checks.view_check import generation_positions, replayed_status
from infrastructure.audit.consistent_read import ViewReader
from infrastructure.audit.fingerprints import differing, fingerprint

COLUMNS = ("generation_id", *FINGERPRINTED)
JSON_COLUMNS = frozenset({"product_images", "model_images", "parameters", "result_images"})
# The row's key is the generation id: the fingerprint, kept per generation, covers the rest.
JSON_AT = tuple(at for at, column in enumerate(FINGERPRINTED) if column in JSON_COLUMNS)


class UserGenerationsCheck(GenerationRowsCheck):
    @staticmethod
    def read(reader: ViewReader) -> dict[int, tuple[int, str, int]]:
        """Per generation: its row's fingerprint, and its status and seq to name a difference."""
        held = {}
        for page in reader.pages("user_generations", COLUMNS):
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
        expected = self.rows.all_fingerprints()
        subject = f"read model {self.name}"
        unknown, different = differing(expected, {key: found[0] for key, found in held.items()})
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
