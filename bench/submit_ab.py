"""Accepted submissions per second and server CPU per accepted submission: this tree against an
older one (`--before DIR`), in alternating rounds of one run, so load from other sessions weighs
on both alike.

Each configuration (store:processes) gets one fresh store per tree with the same 1,000 users as
bench.submit (ample tokens, high hourly limit, a queue that does not refuse). Each round starts
the tree's `atelier serve` (projections in the server, as deployed by default), warms it up,
then counts 201s and the CPU time of the server's processes (/proc) over the measured window.

    git archive <commit> | tar -x -C /tmp/before
    .venv/bin/python -m bench.submit_ab --before /tmp/before --rounds 2
"""

from __future__ import annotations

import argparse
import tempfile
from contextlib import ExitStack
from pathlib import Path

from bench.loadgen import run_load
from bench.proc import cpu_seconds
from bench.reads import SERVED, server
from bench.submit import BENCH_LIMITS, open_accounts, requests_for
from tests.support.stores import fresh_store

Rounds = list[tuple[int, float, list[float]]]  # (accepted, server CPU seconds, latencies)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--before", type=Path, required=True, help="the older source tree")
    parser.add_argument("--configs", nargs="+", default=["sqlite:1", "postgres:1", "postgres:2"])
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--warmup", type=float, default=6.0)
    args = parser.parse_args()
    trees = {"before": args.before.resolve(), "after": Path(__file__).resolve().parent.parent}
    with tempfile.TemporaryDirectory(prefix="atelier-ab-") as tmp:
        for config in args.configs:
            kind, workers = config.split(":")
            figures: dict[str, Rounds] = {t: [] for t in trees}
            with ExitStack() as stores:
                settings = {}
                for tree in trees:
                    store = fresh_store(kind, Path(tmp) / f"{config}-{tree}", **BENCH_LIMITS)
                    settings[tree] = stores.enter_context(store)
                    open_accounts(settings[tree])
                for _ in range(args.rounds):
                    for tree, source in trees.items():
                        env = {"PROJECTIONS_IN_PROCESS": "true"}
                        with server(settings[tree], source, None, int(workers), env) as port:
                            requests = requests_for("/api/generate")
                            run_load("127.0.0.1", port, requests, warmup=0, duration=args.warmup)
                            cpu = cpu_seconds(SERVED[port])
                            result = run_load(
                                "127.0.0.1", port, requests, warmup=0, duration=args.seconds
                            )
                            used = cpu_seconds(SERVED[port]) - cpu
                        figures[tree].append((result.statuses[201], used, result.latencies))
            report(config, figures, args.seconds)


def report(
    config: str, figures: dict[str, list[tuple[int, float, list[float]]]], seconds: float
) -> None:
    print(f"\n== {config}, 32 connections, 1,000 users, rounds alternating before/after")
    print(f"{'':8} {'accepted/s':>11} {'CPU ms/accepted':>16} {'p99 ms':>8}  per round")
    rates = {}
    for tree, rounds in figures.items():
        accepted = sum(n for n, _, _ in rounds)
        cpu = sum(c for _, c, _ in rounds)
        latencies = sorted(x for _, _, lat in rounds for x in lat)
        p99 = latencies[int(0.99 * (len(latencies) - 1))] * 1000 if latencies else float("nan")
        rates[tree] = accepted / (seconds * len(rounds))
        each = ", ".join(f"{n / seconds:.0f}/s {1000 * c / max(n, 1):.2f} ms" for n, c, _ in rounds)
        print(
            f"{tree:8} {rates[tree]:11.0f} {1000 * cpu / max(accepted, 1):16.2f} {p99:8.0f}  {each}"
        )
    print(f"after / before: {rates['after'] / rates['before']:.2f}x")


if __name__ == "__main__":
    main()
