"""What one webhook send costs the sender's CPU, by HTTP client, beside the floor.

A local receiver (its own process, raw asyncio) answers 200 at once; each client posts the
same signed-size body N times, 8 at a time (the delivery's bound per endpoint), over kept
connections. The floor: the same requests written and read on raw asyncio streams, no client.

    .venv/bin/python -m bench.webhook_clients               # 4,000 requests, 3 rounds
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing
import time
from collections.abc import Awaitable, Callable

import aiohttp
import httpx

from bench.webhooks import _receiver
from tests.support.servers import free_port

PER_ENDPOINT = 8
BODY = b'{"type":"generation.created","timestamp":"2026-12-07T00:00:00Z","data":{}}' + b" " * 900
HEADERS = {"content-type": "application/json", "webhook-id": "msg_1", "webhook-timestamp": "1"}


async def with_httpx(url: str, count: int) -> None:
    limits = httpx.Limits(max_connections=None, max_keepalive_connections=100)
    async with httpx.AsyncClient(limits=limits, follow_redirects=False) as client:
        gate = asyncio.Semaphore(PER_ENDPOINT)

        async def one() -> None:
            async with gate:
                request = client.build_request("POST", url, content=BODY, headers=HEADERS)
                response = await client.send(request, stream=True)
                async for _ in response.aiter_raw():
                    pass
                await response.aclose()

        await asyncio.gather(*(one() for _ in range(count)))


async def with_aiohttp(url: str, count: int) -> None:
    connector = aiohttp.TCPConnector(limit=0)
    async with aiohttp.ClientSession(connector=connector) as session:
        gate = asyncio.Semaphore(PER_ENDPOINT)

        async def one() -> None:
            async with gate, session.post(url, data=BODY, headers=HEADERS) as response:
                await response.read()

        await asyncio.gather(*(one() for _ in range(count)))


async def with_raw_streams(url: str, count: int) -> None:
    """The floor: one request per round trip on each of PER_ENDPOINT kept connections."""
    host, port = url.split("/")[2].split(":")
    head = "".join(f"{k}: {v}\r\n" for k, v in HEADERS.items())
    request = (
        f"POST /hook HTTP/1.1\r\nhost: {host}:{port}\r\n{head}content-length: {len(BODY)}\r\n\r\n"
    ).encode() + BODY

    async def connection(share: int) -> None:
        reader, writer = await asyncio.open_connection(host, int(port))
        for _ in range(share):
            writer.write(request)
            await reader.readuntil(b"\r\n\r\n")  # the receiver answers with no body
        writer.close()

    shares = [count // PER_ENDPOINT + (i < count % PER_ENDPOINT) for i in range(PER_ENDPOINT)]
    await asyncio.gather(*(connection(share) for share in shares))


CLIENTS: dict[str, Callable[[str, int], Awaitable[None]]] = {
    "httpx.AsyncClient": with_httpx,
    "aiohttp.ClientSession": with_aiohttp,
    "raw asyncio streams (floor)": with_raw_streams,
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=4000)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    port = free_port()
    stop, results = multiprocessing.Event(), multiprocessing.Queue()
    receiver = multiprocessing.Process(target=_receiver, args=(port, stop, results), daemon=True)
    receiver.start()
    time.sleep(0.5)
    url = f"http://127.0.0.1:{port}/hook"
    print(f"{args.requests} POSTs of {len(BODY)} bytes, {PER_ENDPOINT} at a time, per round")
    print(f"{'client':30} {'requests/s':>10} {'CPU us/request':>15}")
    try:
        for _ in range(args.rounds):
            for name, client in CLIENTS.items():
                cpu, wall = time.process_time(), time.perf_counter()
                asyncio.run(client(url, args.requests))
                cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
                per_request = cpu / args.requests * 1e6
                print(f"{name:30} {args.requests / wall:10.0f} {per_request:15.0f}")
    finally:
        stop.set()
        receiver.join(timeout=5)


if __name__ == "__main__":
    main()
