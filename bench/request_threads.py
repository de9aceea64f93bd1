"""What the request thread pool's size does to submissions and reads, beside an older tree.

On each store, `atelier serve` (1 process, projections in it) with `REQUEST_THREADS` set to
each of `--threads`, and optionally a source tree given by `--before` (run as it is, with its
own pool), rows taken in turn `--rounds` times on one store of 1,000 users: accepted
submissions per second and the server's CPU per answer (from /proc), then `GET
/api/generations` and `GET /api/queue` on the store the submissions filled. 32 connections.

    .venv/bin/python -m bench.request_threads --threads 40 4 2 1
    git archive ccf9788 | tar -x -C /tmp/before   # submissions that held a thread each
    .venv/bin/python -m bench.request_threads --before /tmp/before --threads 40 4
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

from bench.loadgen import run_load
from bench.proc import cpu_seconds
from bench.reads import SERVED, encode_get, server
from bench.submit import BENCH_LIMITS, USERS, open_accounts, requests_for
from tests.support.builders import bearer
from tests.support.stores import fresh_store

CONNECTIONS = 32
HERE = Path(__file__).resolve().parent.parent


def rate_and_cpu(
    port: int, requests: list[bytes], status: int, seconds: float
) -> tuple[float, float]:
    """Answers of `status` per second, and the server's CPU ms per such answer."""
    run_load("127.0.0.1", port, requests, CONNECTIONS, warmup=0.0, duration=1.5)  # warm
    pid = SERVED[port]
    cpu_before, began = cpu_seconds(pid), time.monotonic()
    result = run_load("127.0.0.1", port, requests, CONNECTIONS, warmup=0.0, duration=seconds)
    cpu = cpu_seconds(pid) - cpu_before
    answered = result.rate(status) * (time.monotonic() - began)
    return result.rate(status), 1000 * cpu / max(answered, 1)


def line(figures: list[tuple[float, float]]) -> str:
    return " | ".join(
        f"{name} {rate:6.0f}/s {cpu:5.2f} ms"
        for name, (rate, cpu) in zip(("submit", "list", "queue"), figures, strict=True)
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--stores", nargs="+", default=["sqlite", "postgres"])
    parser.add_argument("--threads", nargs="+", type=int, default=[40, 4, 2, 1])
    parser.add_argument("--before", type=Path, help="an older source tree, run as it is")
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--seconds", type=float, default=6.0)
    args = parser.parse_args()
    sys.stdout.reconfigure(line_buffering=True)  # type: ignore[union-attr]
    rows = ([("before", args.before, {})] if args.before else []) + [
        (f"REQUEST_THREADS={n}", HERE, {"REQUEST_THREADS": str(n)}) for n in args.threads
    ]
    submissions = requests_for("/api/generate")
    lists = [encode_get("/api/generations", bearer(f"user-{n}")) for n in range(USERS)]
    queues = [encode_get("/api/queue", bearer(f"user-{n}")) for n in range(USERS)]
    with tempfile.TemporaryDirectory(prefix="bench-threads-") as root:
        for kind in args.stores:
            print(f"\n== {kind}: accepted or answered/s, server CPU ms per answer")
            with fresh_store(kind, Path(root) / kind, **BENCH_LIMITS) as settings:
                open_accounts(settings)
                results: dict[str, list[list[tuple[float, float]]]] = {r[0]: [] for r in rows}
                for _ in range(args.rounds):
                    for label, source, env in rows:
                        with server(settings, source, server_env=env) as port:
                            figures = [
                                rate_and_cpu(port, submissions, 201, args.seconds),
                                rate_and_cpu(port, lists, 200, args.seconds),
                                rate_and_cpu(port, queues, 200, args.seconds),
                            ]
                        results[label].append(figures)
                        print(f"{label:20} {line(figures)}")
                print(f"medians of {args.rounds} rounds:")
                for label, taken in results.items():
                    medians = [
                        (
                            statistics.median(t[i][0] for t in taken),
                            statistics.median(t[i][1] for t in taken),
                        )
                        for i in range(3)
                    ]
                    print(f"{label:20} {line(medians)}")


if __name__ == "__main__":
    main()
