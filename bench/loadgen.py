"""A small HTTP/1.1 load generator on raw asyncio sockets.

The machines here have two cores shared by the server and the client, so the client must cost
as little as possible: requests are pre-encoded bytes, each of N keep-alive connections sends
one and reads the answer (status line, Content-Length body) before sending the next. Every
server in one benchmark run is driven by this same client, so its cost weighs on the figure
and on its ceiling alike.
"""

from __future__ import annotations

import asyncio
import itertools
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field

import uvloop


@dataclass
class LoadResult:
    """What happened during the measured window (after the warm-up)."""

    seconds: float
    statuses: Counter[int] = field(default_factory=Counter)
    latencies: list[float] = field(default_factory=list)

    def rate(self, status: int) -> float:
        return self.statuses[status] / self.seconds

    def percentile(self, fraction: float) -> float:
        ordered = sorted(self.latencies)
        if not ordered:
            return float("nan")
        return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


def encode_post(path: str, body: bytes, headers: dict[str, str]) -> bytes:
    lines = [
        f"POST {path} HTTP/1.1",
        "Host: 127.0.0.1",
        "Content-Type: application/json",
        f"Content-Length: {len(body)}",
    ]
    lines += [f"{name}: {value}" for name, value in headers.items()]
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + body


async def _read_response(reader: asyncio.StreamReader) -> int:
    head = await reader.readuntil(b"\r\n\r\n")
    status = int(head[9:12])
    length = 0
    for line in head.split(b"\r\n"):
        if line[:15].lower() == b"content-length:":
            length = int(line[15:])
    if length:
        await reader.readexactly(length)
    return status


async def _drive(
    host: str,
    port: int,
    requests: Sequence[bytes],
    concurrency: int,
    warmup: float,
    duration: float,
    stop_after: int | None,
) -> LoadResult:
    result = LoadResult(seconds=duration)
    start = time.perf_counter()
    measure_from, stop_at = start + warmup, start + warmup + duration
    cursor = itertools.count()

    async def connection() -> None:
        reader, writer = await asyncio.open_connection(host, port)
        try:
            while (now := time.perf_counter()) < stop_at and (
                stop_after is None or result.statuses[201] < stop_after
            ):
                writer.write(requests[next(cursor) % len(requests)])
                status = await _read_response(reader)
                done = time.perf_counter()
                if now >= measure_from:
                    result.statuses[status] += 1
                    result.latencies.append(done - now)
        finally:
            writer.close()

    await asyncio.gather(*(connection() for _ in range(concurrency)))
    return result


def run_load(
    host: str,
    port: int,
    requests: Sequence[bytes],
    concurrency: int = 32,
    warmup: float = 3.0,
    duration: float = 20.0,
    stop_after: int | None = None,
) -> LoadResult:
    """Drive the server with `concurrency` connections; measure `duration` after `warmup`,
    or stop early once `stop_after` requests were accepted (201)."""
    return uvloop.run(_drive(host, port, requests, concurrency, warmup, duration, stop_after))
