"""Reads over real HTTP at a deep queue and a long history, beside a no-op GET in the same run.

Two SQLite stores share one synthetic history (`--events`, workers keeping the queue short):
one drained to depth 0, the other then given `--pending` more submissions nobody claims. The
views are caught up before any server starts, and the servers run no projections and make no
writes (no leases to time out, a long PENDING_TTL), so every figure is of a read alone. Rounds
alternate between every server and endpoint, so load from other sessions weighs on each alike:

- `GET /noop` on the same HTTP stack and middleware (the ceiling);
- `GET /api/generations/{id}`: at depth N a pending generation (its place is computed), at
  depth 0 one that ended;
- `GET /api/generations` (20 a page; at depth N most are pending, each with its place);
- `GET /api/queue`.

`--before DIR` adds a server running the source tree in DIR (e.g. `git archive` of an older
commit) on the deep store, for a before/after in one run.

    .venv/bin/python -m bench.reads --events 1000000 --pending 100000
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from uuid import UUID

from bench.loadgen import LoadResult, run_load
from bench.synthetic import HistoryShape, Simulation
from domain.identifiers import account_id
from infrastructure.bootstrap import build_application, build_read_models
from infrastructure.projections.catch_up import REBUILD_BATCH_SIZE, catch_up
from infrastructure.settings import Settings
from tests.support.builders import bearer
from tests.support.servers import Server, free_port, wait_until_healthy
from tests.support.stores import settings_env, sqlite_settings

USERS = 1000
SAMPLE = 1000
CEILING = "bench.ceiling_app:app_factory"
Samples = dict[str, list[tuple[str, UUID]]]
SERVED: dict[int, int] = {}  # port -> the pid of the server process listening on it
CONCURRENCY = 16
SERVER_ENV = {
    "PROJECTIONS_IN_PROCESS": "false",  # the views were caught up first; nothing is written
    "PENDING_TTL_SECONDS": str(365 * 24 * 3600),
    "SWEEP_INTERVAL_SECONDS": "3600",
}


def encode_get(path: str, headers: dict[str, str]) -> bytes:
    lines = [f"GET {path} HTTP/1.1", "Host: 127.0.0.1", *(f"{k}: {v}" for k, v in headers.items())]
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


class Writer:
    """Appends the simulation's decisions to one store in batches of about 1,000 events."""

    def __init__(self, settings: Settings) -> None:
        self.atelier = build_application(settings)
        self.buffer: list[object] = []
        self.written = 0

    def add(self, events: list[object]) -> None:
        self.buffer += [self.atelier.mapper.to_stored_event(event) for event in events]
        if len(self.buffer) >= 1000:
            self.flush()

    def flush(self) -> None:
        if self.buffer:
            self.atelier.recorder.insert_events(self.buffer)
            self.written += len(self.buffer)
            self.buffer = []

    def close(self) -> None:
        self.flush()
        self.atelier.close()


def prepare(root: Path, events: int, pending: int) -> tuple[Settings, Settings, Samples]:
    """The depth-0 and the deep store, and sample (user, generation) pairs to read."""
    shape = HistoryShape(
        users=USERS,
        opening_tokens=1_000_000,
        hourly_limit=1_000_000_000,
        queue_capacity=1_000_000_000,
        seconds_between=0.2,
    )
    simulation = Simulation(shape)
    simulation.clock = datetime.now(UTC) - timedelta(days=3)
    shallow = sqlite_settings(root / "depth-0")
    writer = Writer(shallow)
    ended: list[tuple[str, UUID]] = []
    for batch in simulation.open_accounts():
        writer.add(batch)
    began = time.perf_counter()
    while writer.written + len(writer.buffer) < events:
        if simulation.processing and len(ended) < SAMPLE * 20:
            generation = simulation.processing[0]
            ended.append((generation.user_id, generation.id))
        for batch in simulation.step():
            writer.add(batch)
    while simulation.processing or simulation.pending:  # nothing left running or waiting
        writer.add(simulation.finish_one() if simulation.processing else simulation.take_oldest())
    writer.close()
    history = writer.written
    print(f"history: {history} events in {time.perf_counter() - began:.0f} s")
    deep = sqlite_settings(root / f"depth-{pending}")
    (root / f"depth-{pending}").mkdir(parents=True, exist_ok=True)
    shutil.copy(shallow.sqlite_path, deep.sqlite_path)
    writer = Writer(deep)
    while len(simulation.pending) < pending:
        writer.add(simulation.user_acts())
    writer.close()
    print(f"deep store: {history + writer.written} events, {len(simulation.pending)} pending")
    rng = random.Random(18)
    waiting = [(g.user_id, g.id) for g in rng.sample(list(simulation.pending), SAMPLE)]
    return shallow, deep, {"ended": rng.sample(ended, SAMPLE), "pending": waiting}


def stores(root: Path, events: int, pending: int) -> tuple[Settings, Settings, Samples]:
    """Prepared (views caught up) in `root`, or found there from an earlier run."""
    saved = root / "samples.json"
    if saved.exists() and not (root / "snapshots-taken").exists():
        for store in ("depth-0", f"depth-{pending}"):
            snapshot_accounts(sqlite_settings(root / store))
        (root / "snapshots-taken").touch()
    if saved.exists():
        samples = {
            k: [(u, UUID(g)) for u, g in v] for k, v in json.loads(saved.read_text()).items()
        }
        return (
            sqlite_settings(root / "depth-0"),
            sqlite_settings(root / f"depth-{pending}"),
            samples,
        )
    shallow, deep, samples = prepare(root, events, pending)
    catch_up_views(shallow)
    catch_up_views(deep)
    snapshot_accounts(shallow)
    snapshot_accounts(deep)
    (root / "snapshots-taken").touch()
    saved.write_text(json.dumps({k: [(u, str(g)) for u, g in v] for k, v in samples.items()}))
    return shallow, deep, samples


def snapshot_accounts(settings: Settings) -> None:
    """The history was appended raw: snapshot each account, as the service does as it goes,
    or every first read of an account replays its whole history (that, not the queue, then
    decides every figure)."""
    began = time.perf_counter()
    atelier = build_application(settings)
    for number in range(USERS):
        atelier.take_snapshot(account_id(f"user-{number:06d}"))
    atelier.close()
    print(f"accounts of {settings.data_dir.name} snapshot in {time.perf_counter() - began:.0f} s")


def catch_up_views(settings: Settings) -> None:
    began = time.perf_counter()
    atelier = build_application(settings)
    models = build_read_models(settings, atelier)
    assert models is not None
    for view in models.views.values():
        catch_up(atelier, view, REBUILD_BATCH_SIZE)
    atelier.close()
    print(f"views of {settings.data_dir.name} caught up in {time.perf_counter() - began:.0f} s")


@contextmanager
def server(
    settings: Settings,
    source: Path,
    extra: dict[str, str] | None = None,
    workers: int = 1,
    server_env: dict[str, str] = SERVER_ENV,
) -> Iterator[int]:
    """`atelier serve` (or the ceiling app, given `extra["APP"]`) from `source`, on its port."""
    port = free_port()
    env = {**os.environ, **settings_env(settings), **server_env, "PYTHONPATH": str(source)}
    if extra and "APP" in extra:
        command = [sys.executable, "-m", "uvicorn", extra["APP"], "--factory", "--port"]
        command += [str(port), "--no-access-log", "--log-level", "warning"]
    else:
        command = [sys.executable, "-m", "cli", "serve", "--port", str(port), "--no-access-log"]
        command += ["--workers", str(workers)]
    log = settings.data_dir / f"server-{port}.log"
    with log.open("wb") as output:
        process = subprocess.Popen(command, env=env, cwd=source, stdout=output, stderr=output)
    try:
        wait_until_healthy(Server(f"http://127.0.0.1:{port}", process, log))
        SERVED[port] = process.pid
        yield port
    finally:
        process.terminate()
        process.wait(30)


def requests(kind: str, sample: list[tuple[str, UUID]]) -> list[bytes]:
    if kind == "one":
        return [encode_get(f"/api/generations/{g}", bearer(u)) for u, g in sample]
    if kind == "list":
        return [encode_get("/api/generations", bearer(u)) for u, _ in sample]
    if kind == "queue":
        return [encode_get("/api/queue", bearer(u)) for u, _ in sample]
    return [encode_get("/noop", {}) for _ in sample]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--pending", type=int, default=100_000)
    parser.add_argument("--seconds", type=float, default=5.0, help="per round")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--before", type=Path, help="an older source tree, run on the deep store")
    parser.add_argument("--data", type=Path, help="keep the stores here, and reuse them if there")
    args = parser.parse_args()
    here = Path(__file__).resolve().parent.parent
    with tempfile.TemporaryDirectory(prefix="atelier-reads-") as tmp, ExitStack() as stack:
        shallow, deep, samples = stores(args.data or Path(tmp), args.events, args.pending)
        ports = {
            "noop": stack.enter_context(
                server(shallow, here, {"APP": "bench.ceiling_app:app_factory"})
            ),
            "depth 0": stack.enter_context(server(shallow, here)),
            f"depth {args.pending}": stack.enter_context(server(deep, here)),
        }
        if args.before:
            ports[f"depth {args.pending}, before"] = stack.enter_context(server(deep, args.before))
        cases = [("noop", "noop", samples["ended"])]
        for kind in ("one", "list", "queue"):
            for name in ports:
                if name != "noop":
                    chosen = samples["pending"] if name != "depth 0" else samples["ended"]
                    cases.append((name, kind, chosen))
        results: dict[tuple[str, str], list[LoadResult]] = {}
        for round_number in range(args.rounds):
            for name, kind, sample in cases:
                result = run_load(
                    "127.0.0.1",
                    ports[name],
                    requests(kind, sample),
                    concurrency=CONCURRENCY,
                    warmup=1.0,
                    duration=args.seconds,
                )
                results.setdefault((name, kind), []).append(result)
            print(f"round {round_number + 1} of {args.rounds} done")
        report(results, args)


def report(results: dict[tuple[str, str], list[LoadResult]], args: argparse.Namespace) -> None:
    def rate(key: tuple[str, str]) -> float:
        runs = results[key]
        return sum(sum(n for s, n in r.statuses.items() if s == 200) for r in runs) / sum(
            r.seconds for r in runs
        )

    def p99(key: tuple[str, str]) -> float:
        return max(r.percentile(0.99) for r in results[key]) * 1000

    def errors(key: tuple[str, str]) -> int:
        return sum(n for r in results[key] for s, n in r.statuses.items() if s != 200)

    noop = rate(("noop", "noop"))
    print(
        f"\n== SQLite, 1 process, {CONCURRENCY} connections, {args.rounds} interleaved rounds "
        f"of {args.seconds:.0f} s; history {args.events} events, deep queue {args.pending}"
    )
    print(f"{'':44} {'per s':>8} {'% no-op':>8} {'p99 ms':>8} {'non-200':>8}")
    print(f"{'GET /noop (ceiling)':44} {noop:8.0f} {'100%':>8} {p99(('noop', 'noop')):8.1f}")
    labels = {
        "one": "GET /api/generations/{id}",
        "list": "GET /api/generations",
        "queue": "GET /api/queue",
    }
    for (name, kind), _ in results.items():
        if kind == "noop":
            continue
        figure = rate((name, kind))
        print(
            f"{labels[kind] + ' @ ' + name:44} {figure:8.0f} {figure / noop:8.0%} "
            f"{p99((name, kind)):8.1f} {errors((name, kind)):8d}"
        )


if __name__ == "__main__":
    main()
