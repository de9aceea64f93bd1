"""Submit latency for a fresh account and for one with 100,000 events, side by side.

The long account's history is a realistic one (about 200 days of reservations, captures,
releases, grants and idempotency keys, never over the hourly limit), made by the TokenAccount
aggregate itself and appended straight to the store, with the snapshots the application takes
every ACCOUNT_SNAPSHOT_INTERVAL versions. Then `submit_generation` (the use case, in process, on
the configured store; rate limiting off so one account can submit in a loop) runs alternately
for both accounts, three ways:

- aggregate cache on (AGGREGATE_CACHE_MAXSIZE, as the service runs by default);
- aggregate cache off: every submit loads the account from the store (latest snapshot + the
  events after it);
- and, as the ceiling snapshots are measured against, a cold load of each account alone with
  snapshots, and without them (every event replayed).

Target: the 100,000-event account's p50 submit latency within 1.2x the fresh account's. Both
accounts gain the same events during the run (each submits as often); the queue aggregate that
every submit also loads is the same for both, so without the cache it weighs on both alike.

    .venv/bin/python -m bench.snapshots                     # SQLite and PostgreSQL
    .venv/bin/python -m bench.snapshots --stores sqlite --events 100000 --submits 300
"""

from __future__ import annotations

import argparse
import random
import statistics
import tempfile
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from uuid import uuid4

from application.base import ACCOUNT_SNAPSHOT_INTERVAL
from application.service import Atelier
from domain.accounts import TokenAccount
from domain.identifiers import account_id
from infrastructure.bootstrap import build_application
from tests.support.builders import generation_request
from tests.support.stores import fresh_store

TARGET = 1.2
LIMITS = {"rate_limit_enabled": False, "queue_max_size": 100_000_000}


def long_history(user_id: str, events: int) -> Iterator[list[Any]]:
    """The events of an account that has been used for months, one decision at a time."""
    rng = random.Random(6)
    clock = datetime.now(UTC) - timedelta(days=400)
    account = TokenAccount.open(user_id, 1_000, clock)
    yield list(account.collect_events())
    made = 1
    while made < events:
        clock += timedelta(minutes=rng.uniform(6.5, 15))  # never ten in an hour
        generation_id = uuid4()
        key = None
        if rng.random() < 0.5:
            key = {"key": f"k-{made}", "fingerprint": "f", "expires_at": clock + timedelta(days=1)}
        account.reserve(generation_id, rng.choice((1, 2)), clock, 10, key)
        if rng.random() < 0.85:
            account.capture(generation_id, clock + timedelta(minutes=1))
        else:
            account.release(generation_id, clock + timedelta(minutes=1))
        if account.available < 100:
            account.grant(1_000, "top-up", clock)
        batch = list(account.collect_events())
        made += len(batch)
        yield batch


def write_account(atelier: Atelier, user_id: str, events: int, interval: int) -> int:
    """Append the account's history and the snapshots saving it would have taken."""
    stored: list[Any] = []
    version = 0
    for batch in long_history(user_id, events):
        stored += [atelier.mapper.to_stored_event(event) for event in batch]
        version = batch[-1].originator_version
        if len(stored) >= 1_000:  # large pipelined batches can stall on PostgreSQL
            atelier.recorder.insert_events(stored)
            stored = []
    if stored:
        atelier.recorder.insert_events(stored)
    for snapshot_at in range(interval, version + 1, interval):
        atelier.take_snapshot(account_id(user_id), version=snapshot_at)
    return version


def timed(action: Callable[[], object], repeat: int) -> list[float]:
    """Milliseconds of each call."""
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        action()
        times.append((time.perf_counter() - started) * 1000)
    return times


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


def submit_latencies(atelier: Atelier, submits: int) -> dict[str, list[float]]:
    """Alternating submits by the two accounts (so drift in the machine hits both alike)."""
    request = generation_request()
    times: dict[str, list[float]] = {"fresh": [], "long": []}
    for user in ("fresh", "long"):  # warm up: first loads, connection pool, caches
        for _ in range(5):
            atelier.submit_generation(user, request)
    for _ in range(submits):
        for user in ("fresh", "long"):
            times[user] += timed(lambda u=user: atelier.submit_generation(u, request), 1)
    return times


def cold_loads(
    atelier: Atelier, version: int, interval: int, snapshots: bool
) -> dict[str, list[float]]:
    """Loads with no aggregate cache, with or without snapshots: of an account that has only
    been opened, and of the long one at each version of its last two snapshot intervals (so
    every distance from the latest snapshot counts once, as it does over an account's life;
    `version=` loads take the same path as loading the newest)."""
    repository = atelier.repository
    kept = repository.snapshot_store
    repository.cache = None
    if not snapshots:
        repository.snapshot_store = None  # replay every event, as if none had been taken
    try:
        versions = [version] if not snapshots else range(version - 2 * interval + 1, version + 1)
        fresh = timed(lambda: repository.get(account_id("opened")), len(versions))
        long = [
            timed(lambda v=v: repository.get(account_id("long"), version=v), 1)[0] for v in versions
        ]
        return {"fresh": fresh, "long": long}
    finally:
        repository.snapshot_store = kept


def snapshot_cost(atelier: Atelier, version: int, interval: int) -> float:
    """Milliseconds that taking one snapshot costs: the load of the version it is taken at
    (from the previous snapshot, interval - 1 events back) and the write."""
    last = version - version % interval  # the newest version that already has a snapshot
    times = [
        timed(lambda v=v: atelier.take_snapshot(account_id("long"), version=v), 1)[0]
        for v in range(last - 1, last - 5 * interval, -interval)
    ]
    return statistics.mean(times)


def line(name: str, times: dict[str, list[float]], target: float | None) -> str:
    average = statistics.median if target is not None else statistics.mean
    fresh, long = average(times["fresh"]), average(times["long"])
    ratio = long / fresh
    verdict = "" if target is None else ("  ok" if ratio <= target else "  OVER TARGET")
    ceiling = f"target <= {target:.1f}x{verdict}" if target is not None else "(reference)"
    return (
        f"  {name:<44} {fresh:8.2f} ms  {long:10.2f} ms  "
        f"(p90 {percentile(times['fresh'], 0.9):.2f} / {percentile(times['long'], 0.9):.2f})"
        f"  {ratio:6.2f}x  {ceiling}"
    )


def run(kind: str, events: int, submits: int, interval: int) -> None:
    with (
        tempfile.TemporaryDirectory() as directory,
        fresh_store(kind, Path(directory), **LIMITS) as settings,
    ):
        setup = build_application(settings)
        setup.open_account("fresh", 1_000_000)
        setup.open_account("opened", 0)  # stays at one event, for the loads alone
        started = time.perf_counter()
        history = write_account(setup, "long", events, interval)
        setup.grant_tokens("long", 1_000_000, "bench")  # enough for every submit to come
        version = history + 1
        setup.close()
        print(
            f"\n{kind}: account 'long' has {version:,} events (written in "
            f"{time.perf_counter() - started:.0f} s); snapshots every {interval} versions"
        )
        print(f"  {'':<44} {'fresh':>11}  {f'{version:,} events':>13}")
        cached = build_application(settings)
        print(
            line(
                f"submit p50, aggregate cache on ({settings.aggregate_cache_size:,})",
                submit_latencies(cached, submits),
                TARGET,
            )
        )
        cached.close()
        uncached = build_application(settings)
        uncached.repository.cache = None  # every load reads the store
        cold = submit_latencies(uncached, submits)
        print(line("submit p50, aggregate cache off (cold loads)", cold, TARGET))
        # Loads within the written history: the bench's own submits all fall in one hour, with
        # rate limiting off, so they make a window far longer than any real account keeps.
        loads = cold_loads(uncached, history, interval, snapshots=True)
        print(line("account load alone, no cache, mean", loads, None))
        ceiling = cold_loads(uncached, history, interval, snapshots=False)
        print(line("account load alone, no cache, no snapshots", ceiling, None))
        cost = snapshot_cost(uncached, history, interval)
        print(
            f"  taking a snapshot: {cost:.2f} ms each, every {interval} account versions "
            f"= {cost / interval:.3f} ms per account save"
        )
        uncached.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--stores", nargs="+", default=["sqlite", "postgres"])
    parser.add_argument("--events", type=int, default=100_000)
    parser.add_argument("--submits", type=int, default=200, help="per account and mode")
    parser.add_argument(
        "--interval",
        type=int,
        default=ACCOUNT_SNAPSHOT_INTERVAL,
        help="account snapshot interval to try (default: the application's)",
    )
    args = parser.parse_args()
    intervals = dict(Atelier.snapshotting_intervals)
    intervals[TokenAccount] = args.interval
    Atelier.snapshotting_intervals = intervals
    print("Submit latency: fresh account vs a long-lived one (use case, in process)")
    for kind in args.stores:
        run(kind, args.events, args.submits, args.interval)


if __name__ == "__main__":
    main()
