"""What live status costs `atelier serve`, beside what it is compared with, in the same run.

On each store, one measured server (`atelier serve`, 1 process) and a second server through
which another process records the changes:

- server CPU and RSS while it holds 1,000 event streams and 1,000 `Prefer: wait=60` requests,
  against 2,000 idle keep-alive connections (each sends one GET every 3 s: uvicorn closes a
  connection idle for 5 s), against 2,000 connections that sent nothing (what a connection
  costs between requests) and against no connection at all; each row a fresh server, the
  rows taken in turn `--rounds` times, medians printed with the RSS range and the RSS per
  connection above the no-connection row;
- notification latency p50/p99: a worker claims a watched generation through the second
  server; from its answer to the `processing` event on the stream of the measured one
  (the watcher polls the log's head every LIVE_POLL_SECONDS, 0.2 s: the ceiling it sets);
- bench.submit's accepted/s against the measured server with and without the streams and
  waiters open, alternated.

The held connections live in a client process of their own, so their cost is not the server's.

    .venv/bin/python -m bench.streams                       # SQLite and PostgreSQL
    .venv/bin/python -m bench.streams --stores postgres --rounds 3 --seconds 10
    .venv/bin/python -m bench.streams --stores sqlite --split   # + each kind held alone
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing
import queue
import statistics
import sys
import tempfile
import time
from contextlib import ExitStack, suppress
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import uvloop

from bench.loadgen import run_load
from bench.proc import cpu_seconds
from bench.submit import BENCH_LIMITS, open_accounts, requests_for
from domain.requests import GenerationRequest
from infrastructure.bootstrap import build_application
from infrastructure.settings import Settings
from tests.support.builders import bearer, generation_request
from tests.support.servers import Server, atelier_server
from tests.support.stores import fresh_store, settings_env

HELD = 1000  # streams, and as many waiters
IDLE_EVERY_SECONDS = 3.0
SETTLE_SECONDS = 3.0
CLAIMS = 100
CLAIM_GAP_SECONDS = 0.1
WORKER = bearer("bench-worker", "worker")


# ---- the client process that holds the connections ---------------------------------------


def request_bytes(path: str, user: str, extra: str = "") -> bytes:
    token = bearer(user)["Authorization"]
    return (
        f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: {token}\r\n{extra}\r\n".encode()
    )


async def read_answer(reader: asyncio.StreamReader) -> None:
    head = await reader.readuntil(b"\r\n\r\n")
    for line in head.split(b"\r\n"):
        if line[:15].lower() == b"content-length:":
            await reader.readexactly(int(line[15:]))


async def hold_stream(port: int, generation_id: str, user: str, events: Any) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(request_bytes(f"/api/generations/{generation_id}/stream", user))
    await reader.readuntil(b"\r\n\r\n")
    while line := await reader.readline():  # chunked framing: the data lines come whole
        if line.startswith(b"data: "):
            status = json.loads(line[6:])["status"]
            events.put((generation_id, status, time.monotonic()))


async def hold_waiter(port: int, generation_id: str, user: str) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    request = request_bytes(f"/api/generations/{generation_id}", user, "Prefer: wait=60\r\n")
    while True:
        writer.write(request)
        await read_answer(reader)


async def hold_idle(port: int, generation_id: str, user: str) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    request = request_bytes(f"/api/generations/{generation_id}", user)
    while True:
        writer.write(request)
        await read_answer(reader)
        await asyncio.sleep(IDLE_EVERY_SECONDS)


async def again_if_closed(holder: Any, *arguments: Any) -> None:
    """A connection the server closed (a keep-alive timeout missed on a busy machine) is opened
    again, so the count held stays what the row says."""
    while True:
        with suppress(OSError, asyncio.IncompleteReadError):
            await holder(*arguments)
        await asyncio.sleep(0.1)


async def hold_open(port: int) -> None:
    """A connection that sends nothing: the server keeps it until REQUEST_TIMEOUT_SECONDS."""
    reader, _ = await asyncio.open_connection("127.0.0.1", port)
    await reader.read()


async def hold(port: int, mode: str, owned: list[tuple[str, str]], events: Any, ready: Any) -> None:
    tasks = []
    for generation_id, user in owned:
        if mode in ("live", "streams"):
            stream = again_if_closed(hold_stream, port, generation_id, user, events)
            tasks.append(asyncio.create_task(stream))
        if mode in ("live", "waiters"):
            tasks.append(
                asyncio.create_task(again_if_closed(hold_waiter, port, generation_id, user))
            )
        if mode == "idle":
            for _ in range(2):
                idle = again_if_closed(hold_idle, port, generation_id, user)
                tasks.append(asyncio.create_task(idle))
        elif mode == "opened":
            tasks.append(asyncio.create_task(hold_open(port)))
            tasks.append(asyncio.create_task(hold_open(port)))
        await asyncio.sleep(0.002)  # a steady ramp, not a connection storm
    ready.set()
    await asyncio.gather(*tasks)


def client_process(
    port: int, mode: str, owned: list[tuple[str, str]], events: Any, ready: Any
) -> None:
    uvloop.run(hold(port, mode, owned, events, ready))


# ---- the measurements ----------------------------------------------------------------------


@dataclass
class Usage:
    cpu_percent: float
    rss_mib: float


def rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def usage_over(pid: int, seconds: float) -> Usage:
    before, started = cpu_seconds(pid), time.monotonic()
    time.sleep(seconds)
    elapsed = time.monotonic() - started
    return Usage(100 * (cpu_seconds(pid) - before) / elapsed, rss_mib(pid))


class HeldConnections:
    """The client process holding `mode` connections ("live": a stream and a waiter per
    generation; "idle": two idle keep-alive connections per generation)."""

    def __init__(self, port: int, mode: str, owned: list[tuple[str, str]]) -> None:
        spawn = multiprocessing.get_context("spawn")
        self.events: Any = spawn.Queue()
        ready = spawn.Event()
        self.process = spawn.Process(
            target=client_process, args=(port, mode, owned, self.events, ready), daemon=True
        )
        self.process.start()
        if not ready.wait(timeout=120):
            raise RuntimeError("the client did not open its connections")
        if mode == "live":  # measured once every stream has had its first event
            first_events = 0
            deadline = time.monotonic() + 120
            while first_events < len(owned) and time.monotonic() < deadline:
                with suppress(queue.Empty):
                    self.events.get(timeout=1)
                    first_events += 1
        time.sleep(SETTLE_SECONDS)

    def close(self) -> None:
        self.process.terminate()
        self.process.join()
        time.sleep(1)  # the server notices and lets go


def pending_generations(settings: Settings) -> list[tuple[str, str]]:
    """One pending generation per user: (generation id, owner)."""
    request: GenerationRequest = generation_request()
    owned = []
    with build_application(settings) as atelier:
        for n in range(HELD):
            receipt = atelier.submit_generation(f"user-{n}", request)
            owned.append((str(receipt.generation_id), f"user-{n}"))
    return owned


def latencies(worker_server: Server, held: HeldConnections) -> list[float]:
    """Seconds from the second server's answer to a claim to the stream's `processing` event."""
    answered: dict[str, float] = {}
    with httpx.Client(timeout=30) as client:
        for _ in range(CLAIMS):
            claimed = client.post(
                f"{worker_server.base_url}/api/worker/claim",
                json={"workerId": "bench-worker"},
                headers=WORKER,
            )
            answered[claimed.json()["data"]["_id"]] = time.monotonic()
            time.sleep(CLAIM_GAP_SECONDS)
    arrived: dict[str, float] = {}
    deadline = time.monotonic() + 10
    while len(arrived) < len(answered) and time.monotonic() < deadline:
        try:
            generation_id, status, at = held.events.get(timeout=1)
        except queue.Empty:
            continue
        if status == "processing" and generation_id in answered:
            arrived[generation_id] = at
    missing = len(answered) - len(arrived)
    if missing:
        print(f"  {missing} claims never reached their stream within 10 s")
    return sorted(arrived[g] - answered[g] for g in arrived)


def submit_rate(server: Server, seconds: float) -> float:
    port = int(server.base_url.rsplit(":", 1)[1])
    result = run_load(
        "127.0.0.1", port, requests_for("/api/generate"), warmup=2.0, duration=seconds
    )
    return result.rate(201)


def percentile(values: list[float], fraction: float) -> float:
    return values[min(len(values) - 1, int(fraction * len(values)))] if values else float("nan")


def warm(server: Server, owned: list[tuple[str, str]]) -> None:
    """Every watched generation read once, so each server starts with the same cache."""
    with httpx.Client(base_url=server.base_url, timeout=30) as client:
        for generation_id, user in owned:
            client.get(f"/api/generations/{generation_id}", headers=bearer(user))


MODES = {
    "none": "no connections",
    "opened": f"{2 * HELD} opened, no request (idle ceiling)",
    "idle": f"{2 * HELD} keep-alive, a GET every {IDLE_EVERY_SECONDS:g} s",
    "live": f"{HELD} streams + {HELD} Prefer: wait=60",
}
SPLIT_MODES = {  # --split: each kind of held request alone
    "streams": f"{HELD} streams alone",
    "waiters": f"{HELD} Prefer: wait=60 alone",
}
CONNECTIONS = {"none": 0, "opened": 2 * HELD, "idle": 2 * HELD, "live": 2 * HELD} | {
    "streams": HELD,
    "waiters": HELD,
}


def measure(kind: str, root: Path, rounds: int, seconds: float, split: bool) -> None:
    with fresh_store(kind, root / kind, **BENCH_LIMITS) as settings:
        open_accounts(settings)
        owned = pending_generations(settings)
        env = settings_env(settings)
        modes = MODES | SPLIT_MODES if split else MODES
        print(f"\n== {kind}: each row a fresh `atelier serve` (1 process), warmed alike;")
        print(f"   {rounds} rounds over the rows in turn, medians (and ranges) of each")
        usages: dict[str, list[Usage]] = {mode: [] for mode in modes}
        for _ in range(rounds):
            for mode in modes:
                with atelier_server(env) as measured:
                    warm(measured, owned)
                    port = int(measured.base_url.rsplit(":", 1)[1])
                    held = HeldConnections(port, mode, owned) if mode != "none" else None
                    usages[mode].append(usage_over(measured.process.pid, seconds))
                    if held is not None:
                        held.close()
        print(
            f"{'server over ' + format(seconds, 'g') + ' s':40} {'CPU %':>7} {'RSS MiB':>8}"
            f" {'RSS range':>13} {'KiB/conn':>9}"
        )
        bare = statistics.median(usage.rss_mib for usage in usages["none"])
        for mode, label in modes.items():
            rss = [usage.rss_mib for usage in usages[mode]]
            cpu = statistics.median(usage.cpu_percent for usage in usages[mode])
            per_connection = (
                f"{1024 * (statistics.median(rss) - bare) / CONNECTIONS[mode]:9.1f}"
                if CONNECTIONS[mode]
                else f"{'':9}"
            )
            print(
                f"{label:40} {cpu:7.1f} {statistics.median(rss):8.1f}"
                f" {min(rss):6.1f}-{max(rss):<6.1f} {per_connection}"
            )
        with ExitStack() as stack:
            measured = stack.enter_context(atelier_server(env))
            other = stack.enter_context(atelier_server(env))
            warm(measured, owned)
            port = int(measured.base_url.rsplit(":", 1)[1])
            live = HeldConnections(port, "live", owned)
            lags = latencies(other, live)
            live.close()
            p50, p99 = 1000 * percentile(lags, 0.5), 1000 * percentile(lags, 0.99)
            print(
                f"change by another process -> stream, {len(lags)} claims: p50 {p50:.0f} ms, "
                f"p99 {p99:.0f} ms (ceiling: the 200 ms poll + a read; contract: 1,000 ms)"
            )
            without, with_live = [], []
            for _ in range(rounds):
                without.append(submit_rate(measured, seconds))
                live = HeldConnections(port, "live", owned)
                with_live.append(submit_rate(measured, seconds))
                live.close()
            print(
                "bench.submit accepted/s, alternated: without "
                + ", ".join(f"{r:.0f}" for r in without)
                + f" (median {statistics.median(without):.0f}); with streams + waiters "
                + ", ".join(f"{r:.0f}" for r in with_live)
                + f" (median {statistics.median(with_live):.0f})"
            )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--stores", nargs="+", default=["sqlite", "postgres"])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--split", action="store_true", help="also streams alone, waiters alone")
    args = parser.parse_args()
    sys.stdout.reconfigure(line_buffering=True)  # type: ignore[union-attr]
    with tempfile.TemporaryDirectory(prefix="bench-streams-") as root:
        for kind in args.stores:
            measure(kind, Path(root), args.rounds, args.seconds, args.split)


if __name__ == "__main__":
    main()
