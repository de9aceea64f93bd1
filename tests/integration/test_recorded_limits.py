"""Limits recorded with the events that relied on them, on both stores: `atelier audit` run
without the server's QUEUE_MAX_SIZE and MAX_REQUESTS_PER_HOUR finds nothing, and events stored
before the limits were recorded still load and audit clean."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from domain.accounts import TokenAccount
from domain.generations import Generation
from tests.audit_support import memory_story
from tests.conftest import SettingsFactory
from tests.support.builders import generation_request
from tests.support.clock import Clock
from tests.support.read_side import application, catch_up_all
from tests.support.servers import run_cli
from tests.support.stores import settings_env

pytestmark = pytest.mark.slow

SERVER_LIMITS = ("QUEUE_MAX_SIZE", "MAX_REQUESTS_PER_HOUR")


def shell_without_server_limits(env: dict[str, str]) -> dict[str, str]:
    """The operator's shell: the store's settings, not the server's limits (the defaults)."""
    return {name: value for name, value in env.items() if name not in SERVER_LIMITS}


def test_audit_without_the_servers_limits_finds_no_false_violation(
    make_settings: SettingsFactory,
) -> None:
    settings = make_settings(queue_max_size=60, max_requests_per_hour=100)
    with application(settings, Clock()) as (atelier, models):
        atelier.open_account("alice", 200)
        ids = [atelier.submit_generation("alice", generation_request()) for _ in range(55)]
        assert len({receipt.generation_id for receipt in ids}) == 55  # over the default 50 and 10
        catch_up_all(atelier, models)
        requested = atelier.repository.get(ids[-1].generation_id)
        assert isinstance(requested, Generation)
    audit = run_cli(shell_without_server_limits(settings_env(settings)), "audit", "--json")
    assert audit.returncode == 0, audit.stdout + audit.stderr
    assert json.loads(audit.stdout)["violations"] == []


def test_events_stored_before_limits_were_recorded_still_load_and_audit_clean(
    make_settings: SettingsFactory, tmp_path: Path
) -> None:
    story = memory_story()
    story.open("bob", 20)
    generations = [story.submit("bob", minutes_later=5) for _ in range(3)]
    for stored in story.stored:  # as the previous release wrote them: no limits, older versions
        state = json.loads(stored.state)
        if stored.topic.endswith("TokensReserved"):
            del state["hourly_limit"], state["class_version"]
        elif stored.topic.endswith("GenerationRequested"):
            del state["queue_capacity"]
            state["class_version"] = 2
        else:
            continue
        object.__setattr__(stored, "state", json.dumps(state).encode())
    settings = make_settings()
    with application(settings, Clock()) as (atelier, models):
        story.write_to(atelier)
        for generation in generations:
            loaded = atelier.repository.get(generation.id)
            assert isinstance(loaded, Generation) and loaded.user_id == "bob"
        account = atelier.load_account("bob")
        assert isinstance(account, TokenAccount) and account.reserved == 3
        catch_up_all(atelier, models)
        assert atelier.audit().clean
    audit = run_cli(settings_env(settings), "audit")
    assert audit.returncode == 0, audit.stdout + audit.stderr
