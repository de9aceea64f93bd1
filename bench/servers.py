"""Stores and server processes for the benchmarks (fresh SQLite directory or PostgreSQL schema)."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from infrastructure.settings import Settings
from tests.integration.servers import Server, atelier_command, free_port, wait_until_healthy
from tests.stores import postgres_schema, postgres_settings, settings_env, sqlite_settings


@contextmanager
def fresh_store(kind: str, data_dir: Path, **overrides: object) -> Iterator[Settings]:
    """Settings on an empty SQLite file or an empty PostgreSQL schema, removed afterwards."""
    data_dir.mkdir(parents=True, exist_ok=True)
    if kind == "sqlite":
        yield sqlite_settings(data_dir, **overrides)
        return
    with postgres_schema() as schema:
        yield postgres_settings(data_dir, schema, **overrides)


@contextmanager
def uvicorn_server(
    settings: Settings, factory: str, workers: int, extra_env: dict[str, str] | None = None
) -> Iterator[Server]:
    """`factory` (module:function) under uvicorn with the service's own options."""
    port = free_port()
    log = settings.data_dir / f"{factory.replace(':', '_')}-{port}.log"
    env = {**os.environ, **settings_env(settings), **(extra_env or {})}
    command = [
        sys.executable,
        "-m",
        "uvicorn",
        factory,
        "--factory",
        "--port",
        str(port),
        "--loop",
        "uvloop",
        "--http",
        "httptools",
        "--no-access-log",
        "--log-level",
        "warning",
    ]
    if workers > 1:
        command += ["--workers", str(workers)]
    with log.open("wb") as output:
        process = subprocess.Popen(command, env=env, stdout=output, stderr=subprocess.STDOUT)
    server = Server(f"http://127.0.0.1:{port}", process, log)
    try:
        wait_until_healthy(server)
        yield server
    finally:
        process.terminate()
        process.wait(timeout=30)


@contextmanager
def projections_process(settings: Settings) -> Iterator[subprocess.Popen[bytes]]:
    """`atelier projections run` beside the servers (the PostgreSQL deployment of the docs)."""
    log = settings.data_dir / "projections-run.log"
    with log.open("wb") as output:
        process = subprocess.Popen(
            atelier_command("projections", "run"),
            env={**os.environ, **settings_env(settings)},
            stdout=output,
            stderr=subprocess.STDOUT,
        )
    try:
        yield process
    finally:
        process.terminate()
        process.wait(timeout=30)


def rss_kib(pid: int) -> int:
    """Resident set size of one process, from /proc (Linux)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise RuntimeError(f"no VmRSS for process {pid}")
