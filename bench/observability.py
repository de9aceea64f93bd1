"""What metrics and JSON request logs cost `atelier serve`: bench.submit's load with them on,
against the same server with them off, in alternating rounds on fresh stores.

Besides accepted/s (wall clock, at the mercy of whatever else runs on the machine), it reads the
CPU time the server processes used during the measured window, from /proc, and divides it by
the submissions accepted: the cost per accepted submission, which other load moves far less.

"off": METRICS_ENABLED=false, LOG_FORMAT=text, no request lines (`--no-access-log`).
"on": metrics recorded (prometheus-client, multi-process files), LOG_FORMAT=json with one line
per request, and /metrics scraped every 5 s while the load runs.
Target: "on" costs under 5% of accepted/s. The "off" rounds are the ceiling it is read against.

    .venv/bin/python -m bench.observability                    # sqlite:1 and postgres:2
    .venv/bin/python -m bench.observability --configs sqlite:1 --rounds 4 --seconds 10
    .venv/bin/python -m bench.observability --micro   # the recording alone, in this process
"""

from __future__ import annotations

import argparse
import logging
import os
import statistics
import sys
import tempfile
import threading
import timeit
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import httpx

from application.telemetry import AnsweredRequest
from bench.loadgen import run_load
from bench.proc import cpu_seconds
from bench.submit import BENCH_LIMITS, WARMUP_SECONDS, Row, open_accounts, requests_for, row
from infrastructure.logs.formatter import log_formatter
from infrastructure.logs.request_log import RequestLog
from infrastructure.metrics.instruments import MetricInstruments
from infrastructure.metrics.processes import MULTIPROCESS_VARIABLE
from tests.support.servers import atelier_server
from tests.support.stores import fresh_store, settings_env

SCRAPE_SECONDS = 5.0
MODES = {
    "off": ({"METRICS_ENABLED": "false", "LOG_FORMAT": "text"}, False),
    "on": ({"METRICS_ENABLED": "true", "LOG_FORMAT": "json"}, True),
}


@dataclass
class Run:
    row: Row
    cpu_us_per_accepted: float


def scrape_every(base_url: str, stop: threading.Event) -> None:
    while not stop.wait(SCRAPE_SECONDS):
        httpx.get(f"{base_url}/metrics", timeout=10)


def measure(kind: str, workers: int, mode: str, seconds: float, root: Path) -> Run:
    extra_env, request_lines = MODES[mode]
    with fresh_store(kind, root, **BENCH_LIMITS) as settings:
        open_accounts(settings)
        env = {**settings_env(settings), **extra_env}
        with atelier_server(env, workers=workers, access_log=request_lines) as server:
            stop = threading.Event()
            scraper = threading.Thread(target=scrape_every, args=(server.base_url, stop))
            if mode == "on":
                scraper.start()
            port = int(server.base_url.rsplit(":", 1)[1])
            requests = requests_for("/api/generate")
            try:
                run_load("127.0.0.1", port, requests, warmup=0.0, duration=WARMUP_SECONDS)
                cpu_before = cpu_seconds(server.process.pid)
                result = run_load("127.0.0.1", port, requests, warmup=0.0, duration=seconds)
                cpu = cpu_seconds(server.process.pid) - cpu_before
            finally:
                stop.set()
                if scraper.is_alive():
                    scraper.join()
            log_lines = len(server.log.read_text().splitlines())
    measured = Run(row(mode, result), cpu / max(1, result.statuses[201]) * 1e6)
    print(
        f"  {mode:>3}: {measured.row.rate:7.0f} accepted/s  p50 {measured.row.p50_ms:6.1f} ms  "
        f"p99 {measured.row.p99_ms:6.1f} ms  non-201 {measured.row.errors}  "
        f"server CPU {measured.cpu_us_per_accepted:5.0f} us/accepted  log lines {log_lines}",
        flush=True,
    )
    return measured


def micro() -> None:
    """Best of 7 (x 5,000): what one answered submission costs to record, in this process,
    with metrics kept in memory and in multi-process files, and its JSON line written to a
    file by the request log and, for comparison, through a stdlib logger and its formatter."""

    def best_us(call: Callable[[], object]) -> float:
        return min(timeit.repeat(call, number=5000, repeat=7)) / 5000 * 1e6

    answered = AnsweredRequest("POST", "/api/generate", 201, 0.0123, "a" * 32, "user-1", None)
    with tempfile.TemporaryDirectory() as scratch:
        sink = open(Path(scratch) / "log", "w")  # noqa: SIM115
        handler = logging.StreamHandler(sink)
        handler.setFormatter(log_formatter("json"))
        stdlib = logging.getLogger("bench.request")
        stdlib.addHandler(handler)
        stdlib.setLevel(logging.INFO)
        stdlib.propagate = False
        logging.getLogger("atelier.access").setLevel(logging.INFO)
        stderr, sys.stderr = sys.stderr, sink
        request_log = RequestLog("json")
        sys.stderr = stderr
        fields = {"method": "POST", "route": "/api/generate", "status": 201, "durationMs": 12.3,
                  "requestId": "a" * 32, "userId": "user-1"}  # fmt: skip
        metrics = MetricInstruments()

        def record() -> None:
            metrics.request_answered(answered)
            metrics.submission_decided("accepted")
            metrics.admission_batch(8)

        where = "in files" if os.environ.get(MULTIPROCESS_VARIABLE) else "in memory"
        print(f"metrics, {where}:{best_us(record):24.1f} us per submission")
        native = best_us(lambda: request_log.write(answered))
        print(f"request line, structlog's logger: {native:6.1f} us")
        print(f"request line, a stdlib record:    "
              f"{best_us(lambda: stdlib.info('request', extra=fields)):6.1f} us")  # fmt: skip
        sink.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--configs", nargs="+", default=["sqlite:1", "postgres:2"])
    parser.add_argument("--rounds", type=int, default=3, help="pairs of runs, order alternating")
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--micro", action="store_true", help="only the recording, in process")
    args = parser.parse_args()
    if args.micro:
        micro()
        return
    with tempfile.TemporaryDirectory(prefix="atelier-bench-") as root:
        for config in args.configs:
            kind, workers = config.split(":")
            print(f"\n== {kind}, {workers} worker process(es), 32 clients", flush=True)
            runs: dict[str, list[Run]] = {"off": [], "on": []}
            for number in range(args.rounds):
                order = ["off", "on"] if number % 2 == 0 else ["on", "off"]
                for mode in order:
                    where = Path(root) / f"{kind}-{workers}-{number}-{mode}"
                    runs[mode].append(measure(kind, int(workers), mode, args.seconds, where))
            report(runs)


def report(runs: dict[str, list[Run]]) -> None:
    off = statistics.median(run.row.rate for run in runs["off"])
    on = statistics.median(run.row.rate for run in runs["on"])
    cpu_off = statistics.median(run.cpu_us_per_accepted for run in runs["off"])
    cpu_on = statistics.median(run.cpu_us_per_accepted for run in runs["on"])
    cost = cpu_on / cpu_off - 1
    print(f"median accepted/s: off {off:.0f} (the ceiling), on {on:.0f} ({on / off - 1:+.1%})")
    print(
        f"median server CPU per accepted: off {cpu_off:.0f} us, on {cpu_on:.0f} us: "
        f"{cpu_on - cpu_off:+.0f} us, {cost:+.1%} (target < 5%) {'OK' if cost < 0.05 else 'MISSED'}"
    )


if __name__ == "__main__":
    main()
