"""Webhook delivery against the rate the log grows under `bench.submit`'s load.

One `atelier serve` process on a fresh store, the same load generator as bench.submit (32
keep-alive connections, 1,000 users). First without any endpoint (the ceiling: how fast
submissions, and so `generation.created` events, arrive), then with one endpoint subscribed to
`generation.created` on a local receiver (its own process) that answers 200 at once. Printed:
accepted submissions/s in both runs, messages delivered/s while the load ran, how long the
backlog took to drain after it stopped, and the delivery lag (arrival at the receiver minus
the event's own time, from the message body) p50/p99.

    .venv/bin/python -m bench.webhooks       # SQLite and PostgreSQL, delivery in the server
                                             # or in `atelier webhooks run`, 15 s each
    .venv/bin/python -m bench.webhooks --configs sqlite:separate --seconds 30
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing
import tempfile
import time
from contextlib import ExitStack
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx

from bench.loadgen import run_load
from bench.submit import BENCH_LIMITS, WARMUP_SECONDS, open_accounts, requests_for
from tests.support.builders import admin
from tests.support.servers import atelier_command, atelier_server, free_port, running
from tests.support.stores import fresh_store, settings_env

DRAIN_LIMIT_SECONDS = 120.0


def _receiver(port: int, stop: Any, results: Any) -> None:
    """Answers 200 at once; records (arrival, event time) of each message."""
    arrivals: list[tuple[float, float]] = []

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                length = 0
                for line in head.split(b"\r\n"):
                    if line[:15].lower() == b"content-length:":
                        length = int(line[15:])
                body = await reader.readexactly(length)
                arrived = time.time()
                writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n")
                stamp = json.loads(body)["timestamp"].replace("Z", "+00:00")
                arrivals.append((arrived, datetime.fromisoformat(stamp).timestamp()))
        except (asyncio.IncompleteReadError, ConnectionError, asyncio.CancelledError):
            writer.close()

    async def main() -> None:
        server = await asyncio.start_server(handle, "127.0.0.1", port)
        async with server:
            while not stop.is_set():
                await asyncio.sleep(0.1)

    asyncio.run(main())
    results.put(arrivals)


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))] if ordered else float("nan")


def measure(kind: str, seconds: float, root: Path, separate: bool) -> dict[str, float]:
    """`separate`: `atelier webhooks run` starts first and leads, so the server only serves."""
    figures: dict[str, float] = {}
    name = f"{kind}{'-separate' if separate else ''}"
    with fresh_store(kind, root / name, **BENCH_LIMITS) as settings, ExitStack() as stack:
        open_accounts(settings)
        env = {**settings_env(settings), "WEBHOOK_ALLOW_PRIVATE": "true"}
        if separate:
            log = settings.data_dir / "webhooks-run.log"
            stack.enter_context(running(atelier_command("webhooks", "run"), env, log))
            time.sleep(3)  # it takes the lead before the server starts
        with atelier_server(env) as server:
            port = int(server.base_url.rsplit(":", 1)[1])
            ceiling = run_load(
                "127.0.0.1",
                port,
                requests_for("/api/generate"),
                warmup=WARMUP_SECONDS,
                duration=seconds,
            )
            figures["submitted_without"] = ceiling.rate(201)

            receiver_port = free_port()
            stop, results = multiprocessing.Event(), multiprocessing.Queue()
            receiver = multiprocessing.Process(
                target=_receiver, args=(receiver_port, stop, results), daemon=True
            )
            receiver.start()
            time.sleep(0.5)
            created = httpx.post(
                f"{server.base_url}/api/admin/webhooks",
                json={
                    "url": f"http://127.0.0.1:{receiver_port}/hook",
                    "events": ["generation.created"],
                },
                headers=admin(),
                timeout=30,
            )
            assert created.status_code == 201, created.text
            endpoint = created.json()["data"]["id"]
            started = time.time()
            load = run_load(
                "127.0.0.1",
                port,
                requests_for("/api/generate"),
                warmup=WARMUP_SECONDS,
                duration=seconds,
            )
            load_ended = time.time()
            figures["submitted_with"] = load.rate(201)
            stats = httpx.get(f"{server.base_url}/api/admin/stats", headers=admin(), timeout=60)
            total = sum(stats.json()["data"]["webhooks"].values())
            deadline = time.time() + DRAIN_LIMIT_SECONDS
            while time.time() < deadline:
                counts = httpx.get(
                    f"{server.base_url}/api/admin/stats", headers=admin(), timeout=60
                ).json()["data"]["webhooks"]
                if counts["pending"] == 0 and counts["succeeded"] >= total:
                    break
                time.sleep(0.25)
            drained = time.time()
            stop.set()
            arrivals: list[tuple[float, float]] = results.get(timeout=30)
            receiver.join(timeout=10)
            del endpoint
        during = [a for a, _ in arrivals if started + WARMUP_SECONDS <= a < load_ended]
        figures["delivered_during"] = len(during) / seconds
        figures["messages"] = len(arrivals)
        figures["drain_seconds"] = max(
            0.0, (max(a for a, _ in arrivals) if arrivals else drained) - load_ended
        )
        lags = [(arrived - stamp) * 1000 for arrived, stamp in arrivals]
        figures["lag_p50_ms"] = percentile(lags, 0.5)
        figures["lag_p99_ms"] = percentile(lags, 0.99)
    return figures


def report(kind: str, separate: bool, figures: dict[str, float]) -> None:
    where = "`atelier webhooks run`" if separate else "the server process"
    print(f"\n== {kind}, 1 server process, delivery in {where}, 32 clients, 1 endpoint")
    print(f"accepted submissions/s, no endpoint (ceiling):  {figures['submitted_without']:8.0f}")
    print(f"accepted submissions/s, with the endpoint:      {figures['submitted_with']:8.0f}")
    print(f"messages delivered/s while the load ran:        {figures['delivered_during']:8.0f}")
    keeps_up = figures["delivered_during"] / figures["submitted_with"]
    print(f"  delivered / submitted:                        {keeps_up:8.0%}")
    print(f"messages delivered in all:                      {figures['messages']:8.0f}")
    print(f"backlog drained after the load stopped in:      {figures['drain_seconds']:8.1f} s")
    lags = f"{figures['lag_p50_ms']:.0f} / {figures['lag_p99_ms']:.0f} ms"
    print(f"delivery lag p50 / p99:                         {lags:>8}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--configs",
        nargs="+",
        default=["sqlite", "sqlite:separate", "postgres", "postgres:separate"],
        help="store[:separate]",
    )
    parser.add_argument("--seconds", type=float, default=15.0)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="atelier-bench-") as root:
        for config in args.configs:
            kind, *layout = config.split(":")
            separate = layout == ["separate"]
            report(kind, separate, measure(kind, args.seconds, Path(root), separate))


if __name__ == "__main__":
    main()
