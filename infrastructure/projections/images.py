"""Images: one row per image linked to a generation (the plan's `files` table), with its owner."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any
from uuid import UUID

from domain.generations import Generation
from infrastructure.projections.freshness import Freshness
from infrastructure.projections.table_projection import Handler, TableProjection, on
from infrastructure.projections.view import ProjectionView
from infrastructure.projections.writes import Writes

OWNERS = "owners"  # owner of each generation requested in the batch, while it is folded
LINK = (
    "INSERT INTO {files} (generation_id, role, image_order, url, is_primary, public_id, "
    "format, width, height, user_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, "
    "(SELECT user_id FROM {file_owners} WHERE generation_id = ?))"
)
ROLE_ORDER = {"product": 0, "model": 1}


class ImagesProjection(TableProjection):
    name = "images"
    # file_owners first: keyed rows are written before the image rows that read them.
    tables = {"file_owners": ("generation_id",), "files": ("generation_id", "role", "image_order")}
    schema = (
        "CREATE TABLE IF NOT EXISTS {files} ("
        "generation_id TEXT NOT NULL, role TEXT NOT NULL, image_order INTEGER NOT NULL, "
        "url TEXT NOT NULL, is_primary BOOLEAN NOT NULL, public_id TEXT NOT NULL, "
        "format TEXT, width INTEGER, height INTEGER, user_id TEXT NOT NULL, "
        "PRIMARY KEY (generation_id, role, image_order))",
        "CREATE TABLE IF NOT EXISTS {file_owners} ("
        "generation_id TEXT PRIMARY KEY, user_id TEXT NOT NULL)",
    )

    def event_handlers(self) -> Iterable[tuple[str, Handler]]:
        return (
            on(Generation.GenerationRequested, self._requested),
            on(Generation.ImageLinked, self._linked),
        )

    def _requested(
        self, event: Generation.GenerationRequested, position: int, writes: Writes
    ) -> None:
        generation_id, user_id = str(event.originator_id), event.user_id
        writes.insert("file_owners", {"generation_id": generation_id, "user_id": user_id})
        writes.folding.setdefault(OWNERS, {})[generation_id] = user_id

    def _linked(self, event: Generation.ImageLinked, position: int, writes: Writes) -> None:
        generation_id = str(event.originator_id)
        row = {
            "generation_id": generation_id,
            "role": event.role,
            "image_order": event.order,
            "url": event.url,
            "is_primary": event.is_primary,
            "public_id": event.public_id,
            "format": event.format,
            "width": event.width,
            "height": event.height,
        }
        owner = writes.folding.get(OWNERS, {}).get(generation_id)
        if owner is not None:  # requested in this batch, as it nearly always is
            writes.insert("files", {**row, "user_id": owner})
        else:  # the batch began between the request and its images: look the owner up
            writes.add(LINK, *row.values(), generation_id)


class Images:
    """The linked images of generations, in the order the generation lists them."""

    def __init__(self, view: ProjectionView, freshness: Freshness) -> None:
        self.view = view
        self.freshness = freshness

    def of(self, generation_ids: Iterable[UUID]) -> dict[UUID, list[dict[str, Any]]]:
        """Each generation's images, product first, each role in order, as the aggregate has it."""
        ids = [str(generation_id) for generation_id in generation_ids]
        found: dict[UUID, list[dict[str, Any]]] = {UUID(i): [] for i in ids}
        if not ids:
            return found
        self.freshness.wait(self.view)
        marks = ", ".join("?" * len(ids))  # placeholders only: the ids are parameters
        query = (
            "SELECT generation_id, role, image_order, url, is_primary, public_id, "  # noqa: S608
            f"format, width, height FROM {{files}} WHERE generation_id IN ({marks})"
        )
        rows = self.view.fetch(query, *ids)
        rows.sort(key=lambda row: (ROLE_ORDER.get(row["role"], 2), row["image_order"]))
        for row in rows:
            found[UUID(row["generation_id"])].append(
                {
                    "url": row["url"],
                    "role": row["role"],
                    "order": row["image_order"],
                    "isPrimary": bool(row["is_primary"]),
                    "publicId": row["public_id"],
                    "format": row["format"],
                    "width": row["width"],
                    "height": row["height"],
                }
            )
        return found
