"""Server memory after 1,000 and after 50,000 accepted submissions: no per-request growth.

Drives `atelier serve` (one process) with the submission benchmark's load, reads the server's
resident set size after 1,000 accepted submissions and again after 50,000, and prints the
ratio beside the target (<= 1.5x). Growth per request would show an unbounded cache or an
in-memory limiter; the state that legitimately grows (each account's acceptances inside the
rolling hour) is bounded by the window and is reported with the figures.

    .venv/bin/python -m bench.memory                       # SQLite and PostgreSQL
    .venv/bin/python -m bench.memory --stores postgres --total 50000
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

from bench.loadgen import run_load
from bench.submit import BENCH_LIMITS, USERS, open_accounts, requests_for
from tests.support.servers import atelier_server
from tests.support.stores import fresh_store, settings_env

TARGET = 1.5
FIRST = 1_000


def rss_kib(pid: int) -> int:
    """Resident set size of one process, from /proc (Linux)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise RuntimeError(f"no VmRSS for process {pid}")


def measure(kind: str, total: int, root: Path) -> tuple[int, int, int]:
    """(RSS after FIRST, RSS after `total`, accepted) for one store, in KiB."""
    with fresh_store(kind, root / kind, **BENCH_LIMITS) as settings:
        open_accounts(settings)
        with atelier_server(settings_env(settings)) as server:
            port = int(server.base_url.rsplit(":", 1)[1])
            requests = requests_for("/api/generate")
            first = run_load("127.0.0.1", port, requests, warmup=0, duration=3600, stop_after=FIRST)
            early = rss_kib(server.process.pid)
            rest = run_load(
                "127.0.0.1",
                port,
                requests,
                warmup=0,
                duration=3600,
                stop_after=total - first.statuses[201],
            )
            late = rss_kib(server.process.pid)
            return early, late, first.statuses[201] + rest.statuses[201]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--stores", nargs="+", default=["sqlite", "postgres"])
    parser.add_argument("--total", type=int, default=50_000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="atelier-memory-") as root:
        for kind in args.stores:
            early, late, accepted = measure(kind, args.total, Path(root))
            ratio = late / early
            verdict = "OK" if ratio <= TARGET else "MISSED"
            print(
                f"{kind:9} RSS after {FIRST:,}: {early / 1024:6.1f} MiB   after {accepted:,}: "
                f"{late / 1024:6.1f} MiB   ratio {ratio:.2f}x (target <= {TARGET}x) {verdict}"
            )
            print(
                f"{'':9} ({USERS} users: each account keeps its acceptances of the last hour,"
                f" about {accepted // USERS} here)"
            )


if __name__ == "__main__":
    main()
