"""Claims and completions per second through the application, beside the raw-append ceiling.

    python -m bench.lifecycle [--store sqlite|postgres] [--pending 400] [--threads 1 8]

For each thread count: P generations are submitted, then the threads claim until the queue is
empty (claim = read-model candidates, load, version-checked save of generation + queue), then
complete every one (load generation + account, save both). The ceiling is the raw append of
the same events a claim stores (GenerationStarted + GenerationLeftQueue, one transaction),
straight into the recorder: no loading, no read model, no retries. PostgreSQL is read from
POSTGRES_* (default 127.0.0.1:5432, user postgres, database test), in a throwaway schema.
"""

from __future__ import annotations

import argparse
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from uuid import UUID

from application.service import Atelier
from domain.generations import Generation
from infrastructure.bootstrap import background_services, build_application
from infrastructure.settings import Settings
from tests.support.builders import generation_request
from tests.support.stores import fresh_store

REQUEST = generation_request()
USERS = [f"bench-{n}" for n in range(20)]


@contextmanager
def store(kind: str) -> Iterator[Settings]:
    """An empty store of `kind` (tests.support.stores.fresh_store) with limits that never refuse."""
    with (
        tempfile.TemporaryDirectory() as data_dir,
        fresh_store(
            kind, Path(data_dir), rate_limit_enabled=False, queue_max_size=1_000_000
        ) as settings,
    ):
        yield settings


def fill(atelier: Atelier, count: int) -> list[UUID]:
    return [
        atelier.submit_generation(USERS[n % len(USERS)], REQUEST).generation_id
        for n in range(count)
    ]


def in_threads(threads: int, work: Callable[[int], None]) -> float:
    """Seconds for `threads` threads to run work(index) to the end, started together."""
    barrier = threading.Barrier(threads + 1)

    def run(index: int) -> None:
        barrier.wait()
        work(index)

    pool = [threading.Thread(target=run, args=(n,)) for n in range(threads)]
    for thread in pool:
        thread.start()
    barrier.wait()
    started = time.perf_counter()
    for thread in pool:
        thread.join()
    return time.perf_counter() - started


def measure(atelier: Atelier, pending: int, threads: int) -> tuple[float, float]:
    """(claims per second, completions per second) with `threads` threads."""
    fill(atelier, pending)
    claimed: list[list[UUID]] = [[] for _ in range(threads)]

    def claim_all(index: int) -> None:
        while (details := atelier.claim(f"bench-{index}")) is not None:
            claimed[index].append(details.generation_id)

    claim_seconds = in_threads(threads, claim_all)
    total = sum(len(ids) for ids in claimed)
    assert total == pending, f"claimed {total} of {pending}"

    def complete_all(index: int) -> None:
        for gid in claimed[index]:
            atelier.complete(gid, f"bench-{index}", [f"https://cdn.example.com/{gid}.png"])

    complete_seconds = in_threads(threads, complete_all)
    return pending / claim_seconds, pending / complete_seconds


def ceiling(atelier: Atelier, pending: int) -> float:
    """Raw appends per second of a claim's two events, one transaction each, one thread."""
    ids = fill(atelier, pending)
    queue = atelier.load_queue()
    batches = []
    now = atelier.clock()
    for gid in ids:
        generation: Generation = atelier.repository.get(gid)
        generation.start("ceiling", now + atelier.policy.lease, now)
        queue.leave(gid, "claimed", now)
        events = [*generation.collect_events(), *queue.collect_events()]
        batches.append([atelier.mapper.to_stored_event(event) for event in events])
    started = time.perf_counter()
    for batch in batches:
        atelier.recorder.insert_events(batch)
    return pending / (time.perf_counter() - started)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--store", choices=["sqlite", "postgres"], default="sqlite")
    parser.add_argument("--pending", type=int, default=400)
    parser.add_argument("--threads", type=int, nargs="+", default=[1, 8])
    args = parser.parse_args()
    with store(args.store) as settings:
        atelier = build_application(settings)
        services = [s for s in background_services(settings, atelier) if s.name != "sweeper"]
        for service in services:
            service.start()
        try:
            for user in USERS:
                atelier.open_account(user, 1_000_000)
            print(f"store={args.store} pending={args.pending} (2-core machine figures vary)")
            for threads in args.threads:
                claims, completions = measure(atelier, args.pending, threads)
                rates = f"claims/s={claims:7.0f}  completions/s={completions:7.0f}"
                print(f"threads={threads:2d}  {rates}")
            raw = ceiling(atelier, args.pending)
            print(f"ceiling: raw append of a claim's events, 1 thread: {raw:7.0f}/s")
        finally:
            for service in reversed(services):
                service.stop()
            atelier.close()


if __name__ == "__main__":
    main()
