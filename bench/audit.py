"""The audit's speed over a million events, beside the raw read rate of the same log, and its
peak memory, on SQLite and PostgreSQL.

For each store, a realistic history (bench/synthetic.py: 2,000 users submitting, workers
completing and failing, owners cancelling, generations expiring, grants) of at least
`--events` events is appended, and the read models are caught up. Then, alternating, the
median of `--rounds` (`--modes` to time only some):

- raw read: `select_notifications` over the whole log in the audit's batch size, nothing
  decoded (the ceiling; the audit reads the log the same way);
- the audit of the invariants alone (`atelier audit` minus the read models: the log read by a
  child process while the replay checks);
- the full audit, as `atelier audit` runs it: invariants, and every read model compared, the
  log read by a child process while the replay runs;
- the same all in the audit's own process (for comparison).

Everything timed runs as `atelier audit` does, with the cycle collector paused (see
infrastructure/audit/log_reader.py): the raw read too, so the ceiling is as fast as it can be.

Target: audit events/s >= 50% of the raw read rate.

Memory (tracemalloc peak of the audit's own allocations, in an untimed run) is taken when the
replay has read a quarter of the log and when it has read all of it, beside the live state at
each point; and again over a log that grows by account events alone (`flat`: the same 2,000
accounts granted to, a million times), where the live state does not grow at all.

    .venv/bin/python -m bench.audit                                  # both stores, 1M events
    .venv/bin/python -m bench.audit --stores sqlite --events 1000000 --rounds 3
"""

from __future__ import annotations

import argparse
import gc
import resource
import statistics
import tempfile
import time
import tracemalloc
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from application.audit.reading import BATCH_SIZE
from application.audit.session import AuditSession, ReplayObserver
from application.audit.state import Life
from application.service import Atelier
from bench.synthetic import HistoryShape, write_history
from domain.accounts import TokenAccount
from infrastructure.audit.consistent_read import consistent_read
from infrastructure.audit.log_reader import LogInChild, collector_paused
from infrastructure.audit.parallel import audit_in_parallel, parse_json, view_checks
from infrastructure.bootstrap import build_application, build_read_models
from infrastructure.projections.catch_up import catch_up
from infrastructure.settings import Settings
from tests.support.stores import fresh_store

TARGET = 0.5
MB = 1024 * 1024


def raw_read(atelier: Atelier) -> int:
    """Read every notification, decoding nothing; how many there were."""
    count, position = 0, 0
    while True:
        batch = atelier.recorder.select_notifications(
            start=position, limit=BATCH_SIZE, inclusive_of_start=False
        )
        if not batch:
            return count
        count += len(batch)
        position = batch[-1].id


def raw_read_with_views(settings: Settings, atelier: Atelier) -> int:
    """The raw log read, plus every row of every read model (what the full audit also reads);
    counts the log's events, so the rate compares with the full audit's."""
    count = raw_read(atelier)
    models = build_read_models(settings, atelier)
    assert models is not None
    for view in models.views.values():
        with consistent_read(view) as reader:
            for table in view.projection.tables:
                for _ in reader.pages(table, ["*"]):
                    pass
    return count


def rate(action: Callable[[], int]) -> float:
    """Events per second of `action`, run as `atelier audit` runs (cycle collector paused)."""
    gc.collect()
    with collector_paused():
        started = time.perf_counter()
        count = action()
        elapsed = time.perf_counter() - started
    return count / elapsed


def audit_invariants(settings: Settings, atelier: Atelier) -> int:
    """`atelier audit` without the read models: the log read by a child as the replay checks."""
    with LogInChild(settings, atelier.recorder) as read_log:
        report = atelier.audit(parse_json=parse_json, read_log=read_log)
    assert report.clean, [str(v) for v in report.violations.kept[:5]]
    return report.events


def audit_everything(settings: Settings, atelier: Atelier, parallel: bool = True) -> int:
    """The full audit as `atelier audit` runs it (without `parallel`: all in this process)."""
    if parallel:
        report = audit_in_parallel(settings, atelier)
    else:
        report = atelier.audit(observers=view_checks(settings, atelier), parse_json=parse_json)
    assert report.clean, [str(v) for v in report.violations.kept[:5]]
    assert len(report.projections) == 5
    assert all(c.position == report.last_position for c in report.projections)
    return report.events


def live_state(session: AuditSession) -> str:
    replay = session.replay
    running = sum(1 for life in replay.generations.values() if isinstance(life, Life))
    return (
        f"{len(replay.accounts):,} accounts, {len(replay.generations):,} generations "
        f"({running:,} not settled)"
    )


def memory_profile(atelier: Atelier, observers: list[ReplayObserver]) -> list[str]:
    """Peak traced memory of one audit after a quarter of the log, and after all of it."""
    head = atelier.recorder.max_notification_id() or 0
    lines = []
    gc.collect()
    tracemalloc.start()
    try:
        session = AuditSession(atelier, observers, None, BATCH_SIZE, parse_json)
        for share in (0.25, 1.0):
            session.replay_to(int(head * share))
            if share == 1.0:
                for observer in observers:
                    observer.compare(session)
            _, peak = tracemalloc.get_traced_memory()
            replay = session.replay
            aggregates = len(replay.accounts) + len(replay.generations)
            lines.append(
                f"    after {replay.last_position:>9,} positions: peak {peak / MB:6.1f} MB "
                f"= {peak / aggregates:5.0f} B per aggregate, "
                f"{peak / replay.last_position:5.1f} B per event; live state {live_state(session)}"
            )
    finally:
        tracemalloc.stop()
    return lines


def flat_history(users: int, events: int) -> Iterator[list[Any]]:
    """Accounts opened once, then granted to round-robin: the log grows, the state does not."""
    clock = datetime(2026, 1, 1, tzinfo=UTC)
    accounts = [TokenAccount.open(f"user-{n:06d}", 0, clock) for n in range(users)]
    for account in accounts:
        yield list(account.collect_events())
    made = users
    while made < events:
        for account in accounts:
            clock += timedelta(seconds=1)
            account.grant(1, "drip", clock)
            yield list(account.collect_events())
        made += users


def store_run(kind: str, events: int, rounds: int, only: list[str] | None = None) -> None:
    with (
        tempfile.TemporaryDirectory() as directory,
        fresh_store(kind, Path(directory)) as settings,
    ):
        atelier = build_application(settings)
        started = time.perf_counter()
        written = write_history(atelier, HistoryShape(), events)
        wrote = time.perf_counter() - started
        models = build_read_models(settings, atelier)
        assert models is not None
        started = time.perf_counter()
        for view in models.views.values():
            catch_up(atelier, view, 5_000)
        print(
            f"\n{kind}: {written:,} events written in {wrote:.0f} s; read models caught up "
            f"in {time.perf_counter() - started:.0f} s"
        )
        runs: dict[str, list[float]] = {}
        modes: dict[str, Callable[[], int]] = {
            "raw": lambda: raw_read(atelier),
            "raw+views": lambda: raw_read_with_views(settings, atelier),
            "invariants": lambda: audit_invariants(settings, atelier),
            "full": lambda: audit_everything(settings, atelier),
            "one process": lambda: audit_everything(settings, atelier, parallel=False),
        }
        chosen = only or list(modes)
        for _ in range(rounds):
            for name in chosen:
                runs.setdefault(name, []).append(rate(modes[name]))
        for name, rates in runs.items():
            print(
                f"  {name:<22} median {statistics.median(rates):9,.0f} events/s, "
                f"{written / statistics.median(rates):6.2f} s;"
                f" runs {', '.join(f'{r:,.0f}' for r in rates)}"
            )
        if only:
            atelier.close()
            return
        median = {name: statistics.median(rates) for name, rates in runs.items()}
        ceiling = median["raw"]
        print(f"  raw read of the log (ceiling)          {ceiling:10,.0f} events/s")
        print(
            f"  raw read of the log and the read models {median['raw+views']:9,.0f} events/s "
            f"(what the full audit reads)"
        )
        for name, label in (
            ("invariants", "audit, invariants only"),
            ("full", "audit, invariants + 5 read models"),
            ("one process", "  the same, all in one process"),
        ):
            share = median[name] / ceiling
            verdict = "ok" if share >= TARGET else "UNDER TARGET"
            print(
                f"  {label:<38} {median[name]:10,.0f} events/s = {share:4.0%} of raw "
                f"(target >= {TARGET:.0%}: {verdict})"
            )
        print(
            f"  the full audit is {median['full'] / median['raw+views']:.0%} of the raw read of "
            "everything it reads"
        )
        child = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
        print(f"  peak RSS of the largest child (log or read models): {child:.0f} MB")
        print("  memory, invariants only:")
        for line in memory_profile(atelier, []):
            print(line)
        print("  memory, invariants + read models:")
        for line in memory_profile(atelier, list(view_checks(settings, atelier))):
            print(line)
        atelier.close()


def flat_run(events: int) -> None:
    with (
        tempfile.TemporaryDirectory() as directory,
        fresh_store("sqlite", Path(directory)) as settings,
    ):
        atelier = build_application(settings)
        stored: list[Any] = []
        for decision in flat_history(2_000, events):
            stored += [atelier.mapper.to_stored_event(event) for event in decision]
            if len(stored) >= 1_000:  # see write_history: large pipelined batches can stall
                atelier.recorder.insert_events(stored)
                stored = []
        if stored:
            atelier.recorder.insert_events(stored)
        print(f"\nflat (sqlite): {events:,} events, 2,000 accounts and nothing else")
        print("  memory, invariants only:")
        for line in memory_profile(atelier, []):
            print(line)
        atelier.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--stores", nargs="+", default=["sqlite", "postgres"])
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--no-flat", action="store_true", help="skip the flat-history run")
    parser.add_argument("--modes", nargs="+", help="time only these, print medians, no memory")
    args = parser.parse_args()
    print(f"Audit speed and memory (batches of {BATCH_SIZE:,}; median of {args.rounds})")
    for kind in args.stores:
        store_run(kind, args.events, args.rounds, args.modes)
    if not args.no_flat:
        flat_run(args.events)


if __name__ == "__main__":
    main()
