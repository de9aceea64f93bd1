"""The generation rows two read-model checks share: each event counts once, whichever check
hands it on, and the rows are what each read model's own check expects of them."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from application.audit.reading import moment_micros
from domain.generations import Generation
from infrastructure.audit.checks import generation_rows
from infrastructure.audit.checks.generation_rows import STATUS, GenerationRows
from infrastructure.audit.fingerprints import fingerprint
from infrastructure.projections.sql import micros


def stored(text: str) -> dict[str, str]:
    return {"_type_": "datetime_iso", "_data_": text}


REQUESTED: dict[str, Any] = {
    "user_id": "alice",
    "product_images": ["https://res.cloudinary.com/demo/image/upload/a.jpg"],
    "model_images": [],
    "style": "realistic",
    "aspect_ratio": "1:1",
    "quality": "standard",
    "model": "gpt-image-1",
    "custom_prompt": None,
    "parameters": {"seed": None},
    "prompt": "a shirt",
    "token_cost": 1,
    "requested_at": stored("2026-01-01T00:00:00+00:00"),
}
STARTED = {
    "at": stored("2026-01-01T00:00:01+00:00"),
    "lease_expires_at": stored("2026-01-01T00:10:01+00:00"),
}
FAILED = {"at": stored("2026-01-01T00:00:02+00:00"), "reason": "timed out"}
HISTORY = (
    (1, Generation.GenerationRequested, REQUESTED),
    (2, Generation.GenerationStarted, STARTED),
    (3, Generation.GenerationFailed, FAILED),
)


def test_an_event_handed_on_by_both_checks_is_applied_once(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    conversions: list[Any] = []

    def counted(value: Any) -> int:
        conversions.append(value)
        return moment_micros(value)

    monkeypatch.setattr(generation_rows, "moment_micros", counted)
    once, twice = GenerationRows(), GenerationRows()
    for position, cls, data in HISTORY:
        once.apply(position, 7, cls, data)
    applied_once = len(conversions)
    for position, cls, data in HISTORY:
        twice.apply(position, 7, cls, data)  # the first check
        twice.apply(position, 7, cls, data)  # the second: nothing left to do
    assert len(conversions) == 2 * applied_once  # the second hand-on did no work
    assert twice.ended.sums == once.ended.sums
    assert twice.running == {} and twice.leases == {}


def test_a_running_generation_has_its_row_and_lease_an_ended_one_its_fingerprint() -> None:
    rows = GenerationRows()
    rows.apply(1, 7, Generation.GenerationRequested, REQUESTED)
    rows.apply(2, 7, Generation.GenerationStarted, STARTED)
    assert rows.running[7][STATUS] == "processing"
    assert rows.leases == {7: micros(datetime(2026, 1, 1, 0, 10, 1, tzinfo=UTC))}
    running = fingerprint(rows.running[7])
    assert rows.all_fingerprints() == {7: running}

    rows.apply(3, 7, Generation.GenerationFailed, FAILED)
    assert rows.running == {} and rows.leases == {}
    assert rows.all_fingerprints() == rows.ended.sums
    assert rows.ended.sums[7] != running  # failed, with its reason and end time
