"""Claims on the read models shared out between the audit and its read-models child: each view
is read by whichever process claims it first, and a lock nobody will release stops nobody."""

from __future__ import annotations

import multiprocessing
import threading

import pytest

from infrastructure.audit import view_claims
from infrastructure.audit.view_claims import CHILD, HERE, UNCLAIMED, claim, unclaimed


def test_the_first_claim_wins_and_holds() -> None:
    claims = multiprocessing.get_context("spawn").Array("b", 2)
    assert claim(claims, 0, CHILD) == CHILD
    assert claim(claims, 0, HERE) == CHILD  # the child has it: the audit waits for its snapshot
    assert claim(claims, 1, HERE) == HERE
    assert claim(claims, 1, CHILD) == HERE  # the audit reads it: the child leaves it
    assert claims[:] == [CHILD, HERE]


def test_a_glance_sees_a_claim_without_the_lock() -> None:
    claims = multiprocessing.get_context("spawn").Array("b", 2)
    claim(claims, 1, CHILD)
    assert unclaimed(claims, 0)
    assert not unclaimed(claims, 1)


def test_a_lock_held_for_good_stops_nobody(monkeypatch: pytest.MonkeyPatch) -> None:
    """As if a process had been killed while holding the lock: a claim gives up after the
    wait (its caller then stops sharing: see the snapshot tests), and writes nothing."""
    monkeypatch.setattr(view_claims, "CLAIM_SECONDS", 0.2)
    claims = multiprocessing.get_context("spawn").Array("b", 2)
    held, release = threading.Event(), threading.Event()

    def hold_the_lock() -> None:
        with claims.get_lock():
            held.set()
            release.wait()

    holder = threading.Thread(target=hold_the_lock)
    holder.start()
    held.wait()
    try:
        assert claim(claims, 0, HERE) is None
        assert claim(claims, 1, CHILD) is None
    finally:
        release.set()
        holder.join()
    assert claims[:] == [UNCLAIMED, UNCLAIMED]
