"""The images read model (image rows, each generation's owner), by fingerprint per generation."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from application.audit import violations as rule
from application.audit.reading import generation_key
from application.audit.replay import Replay
from domain.generations import Generation
from infrastructure.audit.checks.view_check import ViewCheck, generation_positions
from infrastructure.audit.consistent_read import ViewReader
from infrastructure.audit.fingerprints import RowSums, differing

FILES: tuple[str, ...] = ("generation_id", "role", "image_order", "url", "is_primary")
FILES += ("public_id", "format", "width", "height", "user_id")
PRIMARY = FILES[1:].index("is_primary")
OWNERS = ("generation_id", "user_id")
ENDINGS = (
    Generation.GenerationCompleted,
    Generation.GenerationFailed,
    Generation.GenerationCancelled,
    Generation.ProcessingCancelled,
    Generation.GenerationExpired,
)


class ImagesCheck(ViewCheck):
    """Each generation's owner row and image rows, summed into one fingerprint per generation."""

    event_classes = frozenset({Generation.GenerationRequested, Generation.ImageLinked, *ENDINGS})

    def __init__(self, *args: Any) -> None:
        super().__init__(*args)
        self.expected = RowSums()
        # Owners of the generations that may still link images (results come with the
        # completion); forgotten once each ends.
        self.owners: dict[int, str] = {}

    def observe(self, position: int, key: int, cls: type[Any], data: dict[str, Any]) -> None:
        # `key`: the sums are per generation, so rows leave its id out
        if cls is Generation.GenerationRequested:
            self.owners[key] = data["user_id"]
            self.expected.add(key, ("owner", data["user_id"]))
            return
        if cls in ENDINGS:
            self.owners.pop(key, None)
            return
        self.expected.add(
            key,
            (
                "file",
                data["role"],
                data["order"],
                data["url"],
                bool(data["is_primary"]),
                data["public_id"],
                data["format"],
                data["width"],
                data["height"],
                self.owners.get(key),
            ),
        )

    @staticmethod
    def read(reader: ViewReader) -> dict[int, int]:
        """Per generation: the sum of its owner row's and its image rows' fingerprints."""
        held = RowSums()
        for page in reader.pages("file_owners", OWNERS):
            for generation_id, user_id in page:
                held.add(generation_key(generation_id), ("owner", user_id))
        for page in reader.pages("files", FILES):
            for generation_id, *values in page:
                values[PRIMARY] = bool(values[PRIMARY])
                held.add(generation_key(generation_id), ("file", *values))
        return held.sums

    def differences(self, held: dict[int, int], replay: Replay) -> int:
        subject = f"read model {self.name}"
        unknown, different = differing(self.expected.sums, held)
        for key in unknown:
            replay.found.add(
                rule.PROJECTION_MISMATCH,
                subject,
                f"holds images of generation {UUID(int=key)}, which was never requested",
            )
        for key in different:
            replay.found.add(
                rule.PROJECTION_MISMATCH,
                subject,
                f"the images of generation {UUID(int=key)} differ from its ImageLinked events",
                *generation_positions(replay, key),
            )
        return len(unknown) + len(different)
