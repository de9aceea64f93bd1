"""Real `atelier serve` processes on 127.0.0.1, for tests that must cross a real socket."""

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
def atelier_server(
    env: dict[str, str], workers: int = 1, extra: Sequence[str] = ()
) -> Iterator[Server]:
    """Start `atelier serve`, wait until its health check answers, stop it afterwards."""
    port = free_port()
    log = Path(env["DATA_DIR"]) / f"server-{port}.log"
    log.parent.mkdir(parents=True, exist_ok=True)
    with log.open("wb") as output:
        process = subprocess.Popen(
            atelier_command(
                "serve", "--port", str(port), "--workers", str(workers), "--no-access-log", *extra
            ),
            env={**os.environ, **env},
            stdout=output,
            stderr=subprocess.STDOUT,
        )
    server = Server(f"http://127.0.0.1:{port}", process, log)
    try:
        wait_until_healthy(server)
        yield server
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


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
