"""Rebuilding every view in one pass over the log gives exactly what each view built alone gives,
on SQLite and PostgreSQL, whatever the batch size."""

from __future__ import annotations

from infrastructure.projections.catch_up import catch_up
from infrastructure.projections.rebuild import rebuild_together
from tests.conftest import SettingsFactory
from tests.integration.test_projections import workload
from tests.support.clock import Clock
from tests.support.read_side import application, catch_up_all


def test_views_rebuilt_together_equal_views_built_alone(make_settings: SettingsFactory) -> None:
    clock = Clock()
    with application(make_settings(), clock) as (atelier, models):
        workload(atelier, clock)
        views = list(models.views.values())
        alone = {}
        for view in views:
            view.reset()
            alone[view.name] = catch_up(atelier, view, batch_size=3)
        built_alone = {view.name: view.contents() for view in views}
        head = atelier.recorder.max_notification_id()

        for batch_size in (1, 2, 5000):
            applied = rebuild_together(atelier, views, batch_size)
            assert applied == alone
            assert {view.name: view.contents() for view in views} == built_alone
            assert [view.position() for view in views] == [head] * len(views)


def test_a_view_moved_by_another_runner_mid_rebuild_still_ends_complete(
    make_settings: SettingsFactory,
) -> None:
    clock = Clock()
    with application(make_settings(), clock) as (atelier, models):
        workload(atelier, clock)
        catch_up_all(atelier, models)
        views = list(models.views.values())
        expected = {view.name: view.contents() for view in views}
        moved = views[0]
        ticks = []

        def another_runner_moves_it(read: int, position: int) -> None:
            if not ticks:
                catch_up(atelier, moved, batch_size=1000)  # as a runner elsewhere would
            ticks.append(position)

        rebuild_together(atelier, views, batch_size=2, on_batch=another_runner_moves_it)
        assert len(ticks) > 1
        assert {view.name: view.contents() for view in views} == expected
