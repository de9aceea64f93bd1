"""What the dashboard's polling costs the server: CPU per refresh, and its share at one refresh
every 5 s, beside the server's idle CPU and the 1% ceiling.

Seeds a store (200 users, 5,000 generations: pending, completed and failed), runs `atelier
serve` (one process), and reads the server's CPU time from /proc: idle for `--seconds`; then
polling as the page does (its five admin routes at once, every 5 s) for as long; then a burst of
`--burst` refreshes back to back, which gives the cost of one refresh above the noise of a
shared machine.

    .venv/bin/python -m bench.dashboard_polling                     # SQLite
    .venv/bin/python -m bench.dashboard_polling --stores sqlite postgres --seconds 60
"""

from __future__ import annotations

import argparse
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx

from bench.proc import cpu_seconds
from bench.submit import BENCH_LIMITS
from infrastructure.settings import Settings
from tests.support.builders import admin, generation_request
from tests.support.lifecycle import wired_application
from tests.support.servers import atelier_server
from tests.support.stores import fresh_store, settings_env

CEILING_PERCENT = 1.0
REFRESH_SECONDS = 5.0
USERS = 200
GENERATIONS = 5_000
PAGE_ROUTES = (  # what web/dashboard/dashboard.js reads on every refresh
    "/api/admin/stats",
    "/api/admin/activity?minutes=60",
    "/api/admin/generations?status=failed&limit=10",
    "/api/admin/users/top?hours=24&limit=10",
    "/api/admin/users/near-limit?limit=10",
)


def seed(settings: Settings) -> None:
    """Every user some generations; of each ten claimed, eight complete and two fail."""
    with wired_application(settings) as atelier:  # its runner keeps the queue view for claims
        for n in range(USERS):
            atelier.open_account(f"user-{n}", 1_000_000)
        for n in range(GENERATIONS):
            atelier.submit_generation(f"user-{n % USERS}", generation_request())
        for n in range(GENERATIONS // 2):
            job = atelier.claim("bench")
            assert job is not None
            if n % 10 < 8:
                atelier.complete(job.generation_id, "bench", ["https://cdn.example/r.png"])
            else:
                atelier.fail(job.generation_id, "bench", "upstream said no")


def refresh(http: httpx.Client, pool: ThreadPoolExecutor) -> None:
    """One refresh as the page makes it: the five routes at once."""
    for response in pool.map(lambda path: http.get(path, headers=admin()), PAGE_ROUTES):
        assert response.status_code == 200, response.text


def measure(kind: str, seconds: float, burst: int, root: Path) -> None:
    with fresh_store(kind, root / kind, **BENCH_LIMITS) as settings:
        seed(settings)
        with (
            atelier_server(settings_env(settings)) as server,
            httpx.Client(base_url=server.base_url, timeout=30) as http,
            ThreadPoolExecutor(len(PAGE_ROUTES)) as pool,
        ):
            pid = server.process.pid
            refresh(http, pool)  # warm: connections, caches, views caught up
            time.sleep(2)

            start, cpu = time.monotonic(), cpu_seconds(pid)
            time.sleep(seconds)
            idle_share = (cpu_seconds(pid) - cpu) / (time.monotonic() - start)

            start, cpu, refreshes = time.monotonic(), cpu_seconds(pid), 0
            while time.monotonic() - start < seconds:
                refresh(http, pool)
                refreshes += 1
                time.sleep(max(0.0, start + refreshes * REFRESH_SECONDS - time.monotonic()))
            polling_share = (cpu_seconds(pid) - cpu) / (time.monotonic() - start)

            cpu = cpu_seconds(pid)
            burst_start = time.monotonic()
            for _ in range(burst):
                refresh(http, pool)
            burst_wall = time.monotonic() - burst_start
            per_refresh = (cpu_seconds(pid) - cpu - idle_share * burst_wall) / burst

    projected = 100 * per_refresh / REFRESH_SECONDS
    print(f"{kind}: {USERS} users, {GENERATIONS:,} generations; one refresh = {PAGE_ROUTES!r}")
    print(f"  server CPU idle                     {100 * idle_share:6.2f}% of a core")
    print(
        f"  server CPU polling every 5 s        {100 * polling_share:6.2f}% of a core "
        f"({refreshes} refreshes; above idle: {100 * (polling_share - idle_share):+.2f}%)"
    )
    verdict = "OK" if projected < CEILING_PERCENT else "MISSED"
    print(
        f"  CPU per refresh (burst of {burst})     {1000 * per_refresh:6.2f} ms -> "
        f"{projected:.3f}% of a core at one per 5 s (ceiling {CEILING_PERCENT}%) {verdict}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--stores", nargs="+", default=["sqlite"])
    parser.add_argument("--seconds", type=float, default=30.0)
    parser.add_argument("--burst", type=int, default=100)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="atelier-dashboard-") as root:
        for kind in args.stores:
            measure(kind, args.seconds, args.burst, Path(root))


if __name__ == "__main__":
    main()
