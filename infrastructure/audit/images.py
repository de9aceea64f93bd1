"""The images read model (the plan's `files`, and the owner of each generation) against the
replay: one row per linked image, with the generation's owner. Compared by fingerprint per
generation, a page of rows at a time."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from application import events
from application.audit import violations as rule
from application.audit.reading import generation_key
from application.audit.replay import Replay
from infrastructure.audit.consistent_read import ViewReader
from infrastructure.audit.fingerprints import RowSums
from infrastructure.audit.view_check import ViewCheck, generation_positions

FILES = (
    "generation_id",
    "role",
    "image_order",
    "url",
    "is_primary",
    "public_id",
    "format",
    "width",
    "height",
    "user_id",
)
FILES_KEY = ("generation_id", "role", "image_order")
PRIMARY = FILES[1:].index("is_primary")
OWNERS = ("generation_id", "user_id")


class ImagesCheck(ViewCheck):
    """Each generation's owner row and image rows, summed into one fingerprint per generation."""

    event_classes = frozenset({events.GENERATION_REQUESTED, events.IMAGE_LINKED})

    def __init__(self, *args: Any) -> None:
        super().__init__(*args)
        self.expected = RowSums()
        self.owners: dict[int, str] = {}  # generations whose images are still being linked

    def observe(
        self, position: int, originator_id: UUID, cls: type[Any], data: dict[str, Any]
    ) -> None:
        key = originator_id.int  # the sums are per generation: rows leave its id out
        if cls is events.GENERATION_REQUESTED:
            # A submission saves the request and its images together: only the newest
            # generation's owner is ever needed.
            self.owners = {key: data["user_id"]}
            self.expected.expect(key, ("owner", data["user_id"]))
            return
        self.expected.expect(
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

    def differences(self, reader: ViewReader, replay: Replay) -> int:
        unknown: set[str] = set()
        for page in reader.pages("file_owners", OWNERS, ("generation_id",)):
            for row in page:
                key = generation_key(row["generation_id"])
                if not self.expected.found(key, ("owner", row["user_id"])):
                    unknown.add(row["generation_id"])
        for page in reader.pages("files", FILES, FILES_KEY):
            for row in page:
                key = generation_key(row["generation_id"])
                values = [row[column] for column in FILES[1:]]
                values[PRIMARY] = bool(row["is_primary"])
                if not self.expected.found(key, ("file", *values)):
                    unknown.add(row["generation_id"])
        subject = f"read model {self.name}"
        for generation_id in sorted(unknown):
            replay.found.add(
                rule.PROJECTION_MISMATCH,
                subject,
                f"holds images of generation {generation_id}, which was never requested",
            )
        differing = self.expected.unmatched()
        for key in differing:
            replay.found.add(
                rule.PROJECTION_MISMATCH,
                subject,
                f"the images of generation {UUID(int=key)} differ from its ImageLinked events",
                *generation_positions(replay, key),
            )
        return len(unknown) + len(differing)
