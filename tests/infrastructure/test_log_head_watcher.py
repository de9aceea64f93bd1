"""LiveStatus over the log-head watcher, in one process on each store: who is woken, what a
resumed stream is sent, and that the watcher reads the store only while someone waits."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import pytest

from application.live_status import LiveStatus, VersionedGeneration
from application.service import Atelier
from infrastructure.log_head_watcher import LogHeadWatcher
from infrastructure.settings import Settings
from tests.conftest import SettingsFactory
from tests.support.lifecycle import submit, wired_application

RESULT = "https://cdn.example.com/results/1.png"
FAST_POLL = 0.02


@pytest.fixture
def settings(make_settings: SettingsFactory) -> Settings:
    return make_settings()


@pytest.fixture
def atelier(settings: Settings) -> Iterator[Atelier]:
    with wired_application(settings) as atelier:
        atelier.open_account("alice", 10)
        yield atelier


def statuses(changes: list[VersionedGeneration | None]) -> list[str | None]:
    return [None if change is None else change.record.status for change in changes]


def test_a_resumed_stream_skips_a_heartbeat_and_ends_with_the_next_status(
    atelier: Atelier,
) -> None:
    generation_id = submit(atelier, "alice")
    atelier.claim("worker-1")
    watcher = LogHeadWatcher(atelier, FAST_POLL)
    live = LiveStatus(atelier, watcher)

    async def story() -> list[VersionedGeneration | None]:
        seen_processing = live.read("alice", generation_id)
        atelier.heartbeat(generation_id, "worker-1")  # a new version, the same status
        current = live.read("alice", generation_id)
        assert current.version == seen_processing.version + 1
        seen = await live.resume_point(generation_id, str(seen_processing.version), current)
        assert seen == (seen_processing.version, "processing")
        received: list[VersionedGeneration | None] = []

        async def follow() -> None:
            async for change in live.status_changes("alice", generation_id, seen, 0.05):
                received.append(change)

        following = asyncio.create_task(follow())
        await asyncio.sleep(0.3)  # keep-alives only: nothing new to send
        assert received and all(change is None for change in received)
        await asyncio.to_thread(atelier.complete, generation_id, "worker-1", [RESULT])
        await asyncio.wait_for(following, 10)
        return received

    received = asyncio.run(story())
    assert [status for status in statuses(received) if status is not None] == ["completed"]
    assert received[-1] is not None and received[-1].record.result_images == [RESULT]
    watcher.stop()


def test_until_ended_returns_the_ended_generation_woken_by_a_second_application(
    atelier: Atelier, settings: Settings
) -> None:
    """A second Atelier on the same store stands for another process: it records the change."""
    generation_id = submit(atelier, "alice")
    watcher = LogHeadWatcher(atelier, FAST_POLL)
    live = LiveStatus(atelier, watcher)

    async def story() -> VersionedGeneration:
        waiting = asyncio.create_task(live.until_ended("alice", generation_id, 30))
        await asyncio.sleep(0.2)
        assert watcher.waiting == 1 and watcher.polling is not None
        await asyncio.to_thread(other.claim, "worker-1")
        await asyncio.to_thread(other.complete, generation_id, "worker-1", [RESULT])
        ended = await asyncio.wait_for(waiting, 20)
        await asyncio.sleep(FAST_POLL * 5)
        assert watcher.waiting == 0 and watcher.polling is None  # nobody waits: no reads
        return ended

    with wired_application(settings, create_tables=False) as other:
        ended = asyncio.run(story())
    assert ended.record.status == "completed"
    watcher.stop()


def test_until_ended_gives_the_generation_as_it_is_after_the_wait(atelier: Atelier) -> None:
    generation_id = submit(atelier, "alice")
    watcher = LogHeadWatcher(atelier, FAST_POLL)
    live = LiveStatus(atelier, watcher)
    held = asyncio.run(live.until_ended("alice", generation_id, 0.2))
    assert held.record.status == "pending"
    watcher.stop()


def test_a_watch_reports_a_change_made_while_nobody_waited_and_lets_go_when_left(
    atelier: Atelier,
) -> None:
    """Between two waits (a stream sending a frame, reading the store) a change must not be
    missed; a wait with no change ends after its timeout; leaving settles a wait and
    unregisters at once."""
    generation_id = submit(atelier, "alice")
    watcher = LogHeadWatcher(atelier, FAST_POLL)

    async def story() -> tuple[bool, bool, bool, bool]:
        async with watcher.watch(generation_id) as watch:
            quiet = await watch.changed(0.05)
            await asyncio.to_thread(atelier.claim, "worker-1")  # recorded while nobody waits
            await asyncio.sleep(FAST_POLL * 5)  # the watcher's poll has seen it by now
            missed = await asyncio.wait_for(watch.changed(30), 5)  # at once, not after 30 s
            waiting = watch.changed(30)
            await asyncio.to_thread(atelier.complete, generation_id, "worker-1", [RESULT])
            woken = await asyncio.wait_for(waiting, 10)
            watch.changed(0.05).cancel()  # a wait given up: its timer must not end the next
            fresh = watch.changed(30)
            await asyncio.sleep(0.2)
            assert not fresh.done()
            left_waiting = watch.changed(30)
            assert watcher.waiting == 1
        assert watcher.waiting == 0 and generation_id not in watcher.waiters
        return quiet, missed, woken, await asyncio.wait_for(left_waiting, 1)

    assert asyncio.run(story()) == (False, True, True, False)
    watcher.stop()
