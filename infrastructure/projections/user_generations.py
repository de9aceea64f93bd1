"""User generations: each user's generations with their status and timestamps, newest first."""

from __future__ import annotations

import json
from collections.abc import Iterable
from datetime import datetime
from typing import Any
from uuid import UUID

from application.queries import GenerationPage, GenerationRecord, UserActivity
from domain.generations import (
    CANCELLED,
    COMPLETED,
    EXPIRED,
    FAILED,
    PENDING,
    PROCESSING,
    Generation,
    GenerationStatus,
)
from infrastructure.projections.freshness import Freshness
from infrastructure.projections.images import Images
from infrastructure.projections.pending_queue import PendingQueue
from infrastructure.projections.sql import from_micros, from_micros_or_none, micros
from infrastructure.projections.table_projection import Handler, TableProjection, on
from infrastructure.projections.view import ProjectionView
from infrastructure.projections.writes import Writes

COLUMNS = (
    "generation_id, user_id, seq, status, product_images, model_images, style, aspect_ratio, "
    "quality, model, custom_prompt, parameters, prompt, token_cost, created_at, updated_at, "
    "started_at, completed_at, result_images, error"
)
TABLE = "user_generations"
Moved = (
    Generation.GenerationStarted
    | Generation.GenerationRequeued
    | Generation.GenerationCompleted
    | Generation.GenerationFailed
    | Generation.GenerationCancelled
    | Generation.ProcessingCancelled
    | Generation.GenerationExpired
)


class UserGenerationsProjection(TableProjection):
    name = "user_generations"
    tables = {TABLE: ("generation_id",)}
    schema = (
        "CREATE TABLE IF NOT EXISTS {user_generations} ("
        "generation_id TEXT PRIMARY KEY, user_id TEXT NOT NULL, seq BIGINT NOT NULL, "
        "status TEXT NOT NULL, product_images TEXT NOT NULL, model_images TEXT NOT NULL, "
        "style TEXT NOT NULL, aspect_ratio TEXT NOT NULL, quality TEXT NOT NULL, "
        "model TEXT NOT NULL, custom_prompt TEXT, parameters TEXT NOT NULL, "
        "prompt TEXT NOT NULL, token_cost INTEGER NOT NULL, created_at BIGINT NOT NULL, "
        "updated_at BIGINT NOT NULL, started_at BIGINT, completed_at BIGINT, "
        "result_images TEXT NOT NULL, error TEXT)",
        "CREATE INDEX IF NOT EXISTS user_generations_by_user ON {user_generations} (user_id, seq)",
        "CREATE INDEX IF NOT EXISTS user_generations_by_user_status "
        "ON {user_generations} (user_id, status, seq)",
        # Every user's, for the operators' list and top users.
        "CREATE INDEX IF NOT EXISTS user_generations_by_seq ON {user_generations} (seq)",
        "CREATE INDEX IF NOT EXISTS user_generations_by_status ON {user_generations} (status, seq)",
        "CREATE INDEX IF NOT EXISTS user_generations_by_time ON {user_generations} (created_at)",
    )

    def event_handlers(self) -> Iterable[tuple[str, Handler]]:
        return (
            on(Generation.GenerationRequested, self._requested),
            on(Generation.GenerationStarted, self._started),
            on(Generation.GenerationRequeued, self._requeued),
            on(Generation.GenerationCompleted, self._completed),
            on(Generation.GenerationFailed, self._failed),
            on(Generation.GenerationCancelled, self._cancelled),
            on(Generation.ProcessingCancelled, self._cancelled),
            on(Generation.GenerationExpired, self._expired),
        )

    def _requested(
        self, event: Generation.GenerationRequested, position: int, writes: Writes
    ) -> None:
        at = micros(event.requested_at)
        row = {
            "generation_id": str(event.originator_id),
            "user_id": event.user_id,
            "seq": position,
            "status": PENDING,
            "product_images": json.dumps(event.product_images),
            "model_images": json.dumps(event.model_images),
            "style": event.style,
            "aspect_ratio": event.aspect_ratio,
            "quality": event.quality,
            "model": event.model,
            "custom_prompt": event.custom_prompt,
            "parameters": json.dumps(event.parameters),
            "prompt": event.prompt,
            "token_cost": event.token_cost,
            "created_at": at,
            "updated_at": at,
            "started_at": None,
            "completed_at": None,
            "result_images": "[]",
            "error": None,
        }
        writes.insert(TABLE, row)

    @staticmethod
    def _change(writes: Writes, event: Moved, status: GenerationStatus, **columns: Any) -> None:
        changes = {"status": status, **columns, "updated_at": micros(event.at)}
        writes.update(TABLE, (str(event.originator_id),), changes)

    def _started(self, event: Generation.GenerationStarted, position: int, writes: Writes) -> None:
        self._change(writes, event, PROCESSING, started_at=micros(event.at))

    def _requeued(
        self, event: Generation.GenerationRequeued, position: int, writes: Writes
    ) -> None:
        self._change(writes, event, PENDING, started_at=None)

    def _completed(
        self, event: Generation.GenerationCompleted, position: int, writes: Writes
    ) -> None:
        results = json.dumps(event.result_images)
        self._change(writes, event, COMPLETED, result_images=results, completed_at=micros(event.at))

    def _failed(self, event: Generation.GenerationFailed, position: int, writes: Writes) -> None:
        self._change(writes, event, FAILED, error=event.reason, completed_at=micros(event.at))

    def _cancelled(
        self,
        event: Generation.GenerationCancelled | Generation.ProcessingCancelled,
        position: int,
        writes: Writes,
    ) -> None:
        self._change(writes, event, CANCELLED, completed_at=micros(event.at))

    def _expired(self, event: Generation.GenerationExpired, position: int, writes: Writes) -> None:
        self._change(writes, event, EXPIRED, completed_at=micros(event.at))


class UserGenerations:
    """A user's generations (or everyone's), newest first, one page at a time."""

    def __init__(
        self, view: ProjectionView, freshness: Freshness, images: Images, queue: PendingQueue
    ) -> None:
        self.view = view
        self.freshness = freshness
        self.images = images
        self.queue = queue

    def page(
        self, user_id: str, status: str | None, limit: int, before: int | None
    ) -> GenerationPage:
        """Up to `limit` (of `status`, if given) accepted before `seq` `before`, newest first."""
        return self.page_of_everyone(user_id, status, limit, before)

    def page_of_everyone(
        self, user_id: str | None, status: str | None, limit: int, before: int | None
    ) -> GenerationPage:
        """As `page`, over every user's generations unless `user_id` is given."""
        self.freshness.wait(self.view)
        conditions: list[str] = []
        params: list[Any] = []
        if user_id is not None:
            conditions.append("user_id = ?")
            params.append(user_id)
        if status is not None:
            conditions.append("status = ?")
            params.append(status)
        if before is not None:
            conditions.append("seq < ?")
            params.append(before)
        where = f"WHERE {' AND '.join(conditions)} " if conditions else ""
        query = (
            f"SELECT {COLUMNS} FROM {{user_generations}} "  # noqa: S608 - constants only
            f"{where}ORDER BY seq DESC LIMIT ?"
        )
        rows = self.view.fetch(query, *params, limit + 1)
        more = len(rows) > limit
        rows = rows[:limit]
        ids = [UUID(row["generation_id"]) for row in rows]
        images = self.images.of(ids)
        pending = [UUID(row["generation_id"]) for row in rows if row["status"] == PENDING]
        positions = self.queue.positions_of(pending)
        items = [
            record_of(row, images[i], positions.get(i)) for row, i in zip(rows, ids, strict=True)
        ]
        return GenerationPage(items, rows[-1]["seq"] if more else None)

    def top_users(self, since: datetime, count: int) -> list[UserActivity]:
        self.freshness.wait(self.view)
        rows = self.view.fetch(
            "SELECT user_id, COUNT(*) AS generations, "
            "SUM(CASE WHEN status = ? THEN token_cost ELSE 0 END) AS captured "
            "FROM {user_generations} WHERE created_at > ? "
            "GROUP BY user_id ORDER BY generations DESC, user_id LIMIT ?",
            COMPLETED,
            micros(since),
            count,
        )
        return [
            UserActivity(row["user_id"], int(row["generations"]), int(row["captured"]))
            for row in rows
        ]

    def users_of(self, generation_ids: list[str]) -> dict[str, str]:
        """Each known generation's user."""
        if not generation_ids:
            return {}
        self.freshness.wait(self.view)
        marks = ", ".join("?" * len(generation_ids))
        rows = self.view.fetch(
            f"SELECT generation_id, user_id FROM {{user_generations}} "  # noqa: S608 - marks only
            f"WHERE generation_id IN ({marks})",
            *generation_ids,
        )
        return {row["generation_id"]: row["user_id"] for row in rows}


def record_of(
    row: dict[str, Any], images: list[dict[str, Any]], queue_position: int | None
) -> GenerationRecord:
    return GenerationRecord(
        generation_id=UUID(row["generation_id"]),
        user_id=row["user_id"],
        status=row["status"],
        product_images=json.loads(row["product_images"]),
        model_images=json.loads(row["model_images"]),
        images=images,
        style=row["style"],
        aspect_ratio=row["aspect_ratio"],
        quality=row["quality"],
        model=row["model"],
        custom_prompt=row["custom_prompt"],
        parameters=json.loads(row["parameters"]),
        prompt=row["prompt"],
        token_cost=row["token_cost"],
        created_at=from_micros(row["created_at"]),
        updated_at=from_micros(row["updated_at"]),
        started_at=from_micros_or_none(row["started_at"]),
        completed_at=from_micros_or_none(row["completed_at"]),
        result_images=json.loads(row["result_images"]),
        error=row["error"],
        queue_position=queue_position,
    )
