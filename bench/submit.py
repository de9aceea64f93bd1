"""Accepted submissions per second over real HTTP, beside the ceilings measured in the same run.

For each store and worker count it measures, with the same load generator (32 keep-alive
connections spread over 1,000 users with ample tokens, a high hourly limit and a queue that
does not refuse):

- `atelier serve`: POST /api/generate, accepted (201) per second and p50/p99 latency;
- the HTTP ceiling: a no-op endpoint on the same stack that parses the same body;
- the combined ceiling: the same endpoint plus the raw append of the same events;
- the store ceiling: the raw append alone, without HTTP, from as many processes as workers.

Targets: accepted/s >= 70% of the combined ceiling; p99 <= 1.5x the combined ceiling's p99.

    .venv/bin/python -m bench.submit   # SQLite 1 worker; PostgreSQL 1 and 2, and 2 with
                                       # the projections in `atelier projections run`
    .venv/bin/python -m bench.submit --configs postgres:2 --seconds 30
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import tempfile
import threading
import time
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench.ceiling_app import fresh_copies, submission_events
from bench.loadgen import LoadResult, encode_post, run_load
from infrastructure.bootstrap import build_application
from infrastructure.settings import Settings
from tests.support.builders import bearer, generation_body
from tests.support.servers import atelier_server, projections_process, uvicorn_server
from tests.support.stores import fresh_store, settings_env

USERS = 1000
BENCH_LIMITS = {"max_requests_per_hour": 1_000_000, "queue_max_size": 100_000_000}
# Long enough for every user to have been seen once at a few hundred requests a second, so
# each server is measured in its steady state (accounts cached), not while warming up.
WARMUP_SECONDS = 6.0


@dataclass
class Row:
    name: str
    rate: float
    p50_ms: float
    p99_ms: float
    errors: int


def row(name: str, result: LoadResult) -> Row:
    errors = sum(n for status, n in result.statuses.items() if status != 201)
    return Row(
        name,
        result.rate(201),
        result.percentile(0.5) * 1000,
        result.percentile(0.99) * 1000,
        errors,
    )


def requests_for(path: str) -> list[bytes]:
    body = json.dumps(generation_body()).encode()
    return [encode_post(path, body, bearer(f"user-{n}")) for n in range(USERS)]


def open_accounts(settings: Settings) -> None:
    with build_application(settings) as atelier:
        for n in range(USERS):
            atelier.open_account(f"user-{n}", 1_000_000)


def _append_worker(
    settings: Settings, threads: int, seconds: float, results: multiprocessing.Queue
) -> None:  # type: ignore[type-arg]
    atelier = build_application(settings, create_tables=False)
    templates = submission_events(atelier, tuple(generation_body()["productImages"]))
    latencies: list[float] = []
    stop_at = time.perf_counter() + seconds

    def loop() -> None:
        while time.perf_counter() < stop_at:
            began = time.perf_counter()
            atelier.recorder.insert_events(fresh_copies(templates))
            latencies.append(time.perf_counter() - began)

    workers = [threading.Thread(target=loop) for _ in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    results.put(latencies)
    atelier.close()


def store_ceiling(settings: Settings, processes: int, seconds: float) -> Row:
    """Raw appends of a submission's events, no HTTP: 32 threads over `processes` processes."""
    spawn = multiprocessing.get_context("spawn")
    results: Any = spawn.Queue()
    procs = [
        spawn.Process(target=_append_worker, args=(settings, 32 // processes, seconds, results))
        for _ in range(processes)
    ]
    for proc in procs:
        proc.start()
    latencies = sorted(x for _ in procs for x in results.get())
    for proc in procs:
        proc.join()
    result = LoadResult(seconds=seconds, latencies=latencies)
    result.statuses[201] = len(latencies)
    return row("raw append (store ceiling)", result)


def measure(kind: str, workers: int, separate: bool, seconds: float, root: Path) -> list[Row]:
    """The four rows of one configuration. `separate`: the servers leave the projections to
    one `atelier projections run` process beside them, as docs/operations.md recommends for
    PostgreSQL; otherwise one server process runs them (leadership) while serving."""
    rows = []
    name = f"{kind}-{workers}{'-separate' if separate else ''}"
    with fresh_store(kind, root / name, **BENCH_LIMITS) as settings:
        open_accounts(settings)
        env = {**settings_env(settings), "PROJECTIONS_IN_PROCESS": str(not separate).lower()}
        with ExitStack() as stack:
            if separate:
                stack.enter_context(projections_process(settings))
            server = stack.enter_context(atelier_server(env, workers=workers))
            port = int(server.base_url.rsplit(":", 1)[1])
            rows.append(
                row(
                    "atelier POST /api/generate",
                    run_load(
                        "127.0.0.1",
                        port,
                        requests_for("/api/generate"),
                        warmup=WARMUP_SECONDS,
                        duration=seconds,
                    ),
                )
            )
        with uvicorn_server(settings, "bench.ceiling_app:app_factory", workers) as server:
            port = int(server.base_url.rsplit(":", 1)[1])
            rows.append(
                row(
                    "no-op parse (HTTP ceiling)",
                    run_load(
                        "127.0.0.1",
                        port,
                        requests_for("/noop"),
                        warmup=WARMUP_SECONDS,
                        duration=seconds,
                    ),
                )
            )
            rows.append(
                row(
                    "parse + raw append (combined ceiling)",
                    run_load(
                        "127.0.0.1",
                        port,
                        requests_for("/append"),
                        warmup=WARMUP_SECONDS,
                        duration=seconds,
                    ),
                )
            )
        rows.append(store_ceiling(settings, workers, seconds))
    return rows


def report(kind: str, workers: int, separate: bool, rows: list[Row]) -> None:
    atelier, http, combined, store = rows
    where = "in `atelier projections run`" if separate else "in the server"
    print(
        f"\n== {kind}, {workers} worker process(es), projections {where}, 32 clients, {USERS} users"
    )
    print(f"{'':40} {'per s':>9} {'p50 ms':>8} {'p99 ms':>8} {'non-201':>8}")
    for item in rows:
        print(
            f"{item.name:40} {item.rate:9.0f} {item.p50_ms:8.1f} {item.p99_ms:8.1f} "
            f"{item.errors:8d}"
        )
    share = atelier.rate / combined.rate if combined.rate else float("nan")
    p99_ratio = atelier.p99_ms / combined.p99_ms if combined.p99_ms else float("nan")
    print(
        f"accepted/s vs combined ceiling: {share:.0%} (target >= 70%)  "
        f"{'OK' if share >= 0.7 else 'MISSED'}"
    )
    print(
        f"p99 vs combined ceiling p99:    {p99_ratio:.2f}x (target <= 1.5x)  "
        f"{'OK' if p99_ratio <= 1.5 else 'MISSED'}"
    )
    print(
        f"vs HTTP ceiling: {atelier.rate / http.rate:.0%}; "
        f"vs store ceiling: {atelier.rate / store.rate:.0%}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--configs",
        nargs="+",
        default=[
            "sqlite:1",
            "postgres:1",
            "postgres:1:separate",
            "postgres:2",
            "postgres:2:separate",
        ],
        help="store:workers pairs",
    )
    parser.add_argument("--seconds", type=float, default=15.0)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="atelier-bench-") as root:
        for config in args.configs:
            kind, workers, *layout = config.split(":")
            separate = layout == ["separate"]
            rows = measure(kind, int(workers), separate, args.seconds, Path(root))
            report(kind, int(workers), separate, rows)


if __name__ == "__main__":
    main()
