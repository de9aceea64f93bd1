"""Claims under contention: 8 claimers over 20 pending give 20 distinct claims, on both stores.

Claimers are real processes (each wired like `atelier worker`, with its own projection runner)
or real threads sharing one application (like a server's request threads). They start together
at a barrier, claim until nothing is left, and the test then counts what the store holds.
"""

from __future__ import annotations

import multiprocessing
import threading
from collections import Counter
from uuid import UUID

import pytest

from application.service import Atelier
from tests.conftest import SettingsFactory
from tests.support.claimers import claim_until_empty, claimer_process
from tests.support.lifecycle import event_names, generation, queue_depth, submit, wired_application

CLAIMERS = 8
PENDING = 20
pytestmark = pytest.mark.slow


def fill_queue(atelier: Atelier) -> list[UUID]:
    for user in ("alice", "bob", "carol", "dave"):
        atelier.open_account(user, 10)
    return [submit(atelier, ("alice", "bob", "carol", "dave")[n % 4]) for n in range(PENDING)]


def assert_each_claimed_exactly_once(
    atelier: Atelier, submitted: list[UUID], claims: dict[str, list[str]]
) -> None:
    every_claim = [gid for claimed in claims.values() for gid in claimed]
    assert len(every_claim) == PENDING, Counter(every_claim).most_common(3)
    assert sorted(every_claim) == sorted(str(gid) for gid in submitted)
    for worker_id, claimed in claims.items():
        for gid in claimed:
            stored = generation(atelier, UUID(gid))
            assert (stored.status, stored.worker_id) == ("processing", worker_id)
    for gid in submitted:
        assert event_names(atelier, gid).count("GenerationStarted") == 1
    assert queue_depth(atelier) == 0
    assert atelier.claim("late-comer") is None


def test_eight_processes_claim_twenty_pending_exactly_once(
    make_settings: SettingsFactory,
) -> None:
    settings = make_settings(rate_limit_enabled=False)
    with wired_application(settings) as atelier:
        submitted = fill_queue(atelier)
        # Fresh single-threaded processes (no inherited connections or threads), forked from
        # a server that imported the claimer once, rather than eight cold interpreters.
        context = multiprocessing.get_context("forkserver")
        context.set_forkserver_preload(["tests.support.claimers"])
        barrier = context.Barrier(CLAIMERS)
        results = context.Queue()
        processes = [
            context.Process(
                target=claimer_process, args=(settings, f"process-{n}", barrier, results)
            )
            for n in range(CLAIMERS)
        ]
        for process in processes:
            process.start()
        reports = [results.get(timeout=180) for _ in processes]
        for process in processes:
            process.join(timeout=60)
            assert process.exitcode == 0

        assert [error for _, _, error in reports if error] == []
        claims = {worker_id: claimed for worker_id, claimed, _ in reports}
        assert_each_claimed_exactly_once(atelier, submitted, claims)


def test_eight_threads_of_one_process_claim_twenty_pending_exactly_once(
    make_settings: SettingsFactory,
) -> None:
    settings = make_settings(rate_limit_enabled=False)
    with wired_application(settings) as atelier:
        submitted = fill_queue(atelier)
        barrier = threading.Barrier(CLAIMERS)
        claims: dict[str, list[str]] = {}
        errors: list[BaseException] = []

        def claimer(worker_id: str) -> None:
            barrier.wait(timeout=60)
            try:
                claims[worker_id] = claim_until_empty(atelier, worker_id)
            except BaseException as error:
                errors.append(error)

        threads = [threading.Thread(target=claimer, args=(f"thread-{n}",)) for n in range(CLAIMERS)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=180)

        assert errors == []
        assert_each_claimed_exactly_once(atelier, submitted, claims)
