"""Real server processes on 127.0.0.1 (`atelier serve`, an app under uvicorn, `atelier
projections run`), for the tests that must cross a real socket and for the benchmarks."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx

from infrastructure.settings import Settings
from tests.support.stores import settings_env

STARTUP_SECONDS = 30


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def atelier_command(*arguments: str) -> list[str]:
    """The `atelier` command as this interpreter runs it."""
    return [sys.executable, "-m", "cli", *arguments]


def run_cli(env: dict[str, str], *arguments: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        atelier_command(*arguments),
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


@dataclass
class Server:
    base_url: str
    process: subprocess.Popen[bytes]
    log: Path


@contextmanager
def running(
    command: list[str], env: dict[str, str], log: Path
) -> Iterator[subprocess.Popen[bytes]]:
    """`command` with its output in `log`, terminated (killed if it lingers) afterwards."""
    log.parent.mkdir(parents=True, exist_ok=True)
    with log.open("wb") as output:
        process = subprocess.Popen(
            command, env={**os.environ, **env}, stdout=output, stderr=subprocess.STDOUT
        )
    try:
        yield process
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@contextmanager
def serving(command: list[str], env: dict[str, str], port: int, log: Path) -> Iterator[Server]:
    """`command`, listening on `port`, once its health check answers."""
    with running(command, env, log) as process:
        server = Server(f"http://127.0.0.1:{port}", process, log)
        wait_until_healthy(server)
        yield server


@contextmanager
def atelier_server(
    env: dict[str, str], workers: int = 1, extra: Sequence[str] = (), access_log: bool = False
) -> Iterator[Server]:
    """`atelier serve` on the store `env` names; a line per request only with `access_log`."""
    port = free_port()
    quiet = [] if access_log else ["--no-access-log"]
    command = atelier_command(
        "serve", "--port", str(port), "--workers", str(workers), *quiet, *extra
    )
    with serving(command, env, port, Path(env["DATA_DIR"]) / f"server-{port}.log") as server:
        yield server


@contextmanager
def uvicorn_server(
    settings: Settings, factory: str, workers: int, extra_env: dict[str, str] | None = None
) -> Iterator[Server]:
    """`factory` (module:function) under uvicorn with the service's own options."""
    port = free_port()
    log = settings.data_dir / f"{factory.replace(':', '_')}-{port}.log"
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
    with serving(command, {**settings_env(settings), **(extra_env or {})}, port, log) as server:
        yield server


@contextmanager
def projections_process(settings: Settings) -> Iterator[subprocess.Popen[bytes]]:
    """`atelier projections run` beside the servers (the PostgreSQL deployment of the docs)."""
    log = settings.data_dir / "projections-run.log"
    command = atelier_command("projections", "run")
    with running(command, settings_env(settings), log) as process:
        yield process


def wait_until_healthy(server: Server) -> None:
    deadline = time.monotonic() + STARTUP_SECONDS
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            raise RuntimeError(f"atelier serve exited:\n{server.log.read_text()}")
        try:
            if httpx.get(f"{server.base_url}/api/generate", timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    raise RuntimeError(f"atelier serve did not become healthy:\n{server.log.read_text()}")
