"""Reading a read model a page at a time: every row exactly once, however many pages.

The audit compares the large read models by sums over their rows, read a page at a time so a
million rows never sit in memory at once; SQLite streams one query, PostgreSQL pages by key.
A row read twice or skipped would be a false violation or a missed one.
"""

from __future__ import annotations

import pytest

from infrastructure.audit import consistent_read as reading
from infrastructure.audit.checks.images import FILES
from infrastructure.audit.consistent_read import consistent_read
from infrastructure.audit.parallel import view_checks
from infrastructure.bootstrap import build_application, build_read_models
from infrastructure.projections.catch_up import catch_up
from tests.conftest import SettingsFactory
from tests.support.lifecycle import submit


def test_every_row_is_read_once_across_many_pages(
    make_settings: SettingsFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = make_settings()
    atelier = build_application(settings)
    try:
        atelier.open_account("alice", 50)
        for _ in range(10):  # an image each: 10 rows
            submit(atelier, "alice")
        models = build_read_models(settings, atelier)
        assert models is not None
        view = models.views["images"]
        catch_up(atelier, view)
        with consistent_read(view) as reader:
            everything = reader.values(f"SELECT {', '.join(FILES)} FROM {{files}}")  # noqa: S608
        assert len(everything) == 10

        monkeypatch.setattr(reading, "PAGE_SIZE", 4)
        with consistent_read(view) as reader:
            pages = list(reader.pages("files", FILES))
        assert [len(page) for page in pages] == [4, 4, 2]
        assert sorted(row for page in pages for row in page) == sorted(everything)

        # The audit's own comparisons, reading here in pages of 4, find every row matching.
        report = atelier.audit(observers=view_checks(settings, atelier))
        assert report.clean, [str(v) for v in report.violations.kept]
        assert {c.name: c.differences for c in report.projections}["images"] == 0
    finally:
        atelier.close()
