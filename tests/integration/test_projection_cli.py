"""`atelier projections status | rebuild [NAME]` as an operator runs them, in a child process."""

from __future__ import annotations

from tests.conftest import SettingsFactory
from tests.support.clock import Clock
from tests.support.lifecycle import submit
from tests.support.read_side import application, catch_up_all
from tests.support.servers import run_cli
from tests.support.stores import settings_env

NAMES = [
    "pending_queue",
    "rate_limits",
    "user_generations",
    "images",
    "dashboard_totals",
    "activity",
]


def status_lines(output: str) -> dict[str, list[int]]:
    rows = [line.split() for line in output.splitlines()[1:]]
    return {row[0]: [int(n) for n in row[1:]] for row in rows if row[0] in NAMES}


def test_status_then_rebuild_from_the_command_line(make_settings: SettingsFactory) -> None:
    settings = make_settings()
    env = settings_env(settings)
    with application(settings, Clock()) as (atelier, models):
        atelier.open_account("alice", 10)
        for _ in range(3):
            submit(atelier, "alice")
        head = atelier.recorder.max_notification_id()

        behind = run_cli(env, "projections", "status")
        assert behind.returncode == 0, behind.stderr
        assert status_lines(behind.stdout) == {name: [0, head] for name in NAMES}
        assert behind.stdout.splitlines()[-1].split() == ["log", "head", str(head)]

        catch_up_all(atelier, models)
        built = {name: view.contents() for name, view in models.views.items()}
        one = run_cli(env, "projections", "rebuild", "images")
        assert one.returncode == 0, one.stderr
        assert "images: rebuilt from 6 events" in one.stdout  # 3 requests, each with 1 image
        every = run_cli(env, "projections", "rebuild", "--batch-size", "2")
        assert every.returncode == 0, every.stderr
        assert {name: view.contents() for name, view in models.views.items()} == built

        caught_up = run_cli(env, "projections", "status")
        assert status_lines(caught_up.stdout) == {name: [head, 0] for name in NAMES}
        unknown = run_cli(env, "projections", "rebuild", "nonsense")
        assert unknown.returncode == 2
        assert "invalid choice" in unknown.stderr
