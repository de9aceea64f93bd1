"""The README walk-through against a real `atelier serve`: CLI account and token, curl-like
submission over a socket, and the body limit on a live connection."""

from __future__ import annotations

import json
import socket
import time
from pathlib import Path

import httpx
import pytest

from tests.support.builders import generation_body
from tests.support.servers import atelier_server, run_cli

pytestmark = pytest.mark.slow


def test_readme_walk_through_on_a_fresh_data_directory(tmp_path: Path) -> None:
    env = {"DATA_DIR": str(tmp_path / "var")}  # no AUTH_SECRET: the development secret
    with atelier_server(env) as server:
        opened = run_cli(env, "accounts", "open", "alice", "--tokens", "5")
        assert opened.returncode == 0, opened.stderr
        assert json.loads(opened.stdout)["balance"] == 5
        minted = run_cli(env, "token", "alice")
        assert "AUTH_SECRET is not set" not in minted.stderr  # said once, by the server
        assert server.log.read_text().count("AUTH_SECRET is not set") == 1
        token = minted.stdout.strip()
        headers = {"Authorization": f"Bearer {token}"}
        created = httpx.post(
            f"{server.base_url}/api/generate", json=generation_body(), headers=headers
        )
        assert created.status_code == 201, created.text
        generation = httpx.get(server.base_url + created.headers["location"], headers=headers)
        assert generation.json()["data"]["status"] == "pending"
        shown = run_cli(env, "accounts", "show", "alice")
        assert json.loads(shown.stdout)["reserved"] == 1
        granted = run_cli(env, "accounts", "grant", "alice", "3", "--reason", "welcome")
        assert json.loads(granted.stdout)["balance"] == 8
    assert (tmp_path / "var" / "atelier.sqlite3").exists()
    assert (tmp_path / "var" / "auth-secret").stat().st_mode & 0o077 == 0


def test_cli_reports_bad_configuration_and_missing_accounts(tmp_path: Path) -> None:
    env = {"DATA_DIR": str(tmp_path), "QUEUE_MAX_SIZE": "many"}
    bad = run_cli(env, "accounts", "show", "alice")
    assert bad.returncode == 2 and "QUEUE_MAX_SIZE" in bad.stderr
    missing = run_cli({"DATA_DIR": str(tmp_path)}, "accounts", "show", "ghost")
    assert missing.returncode == 1 and "ghost" in missing.stderr


def read_response(sock: socket.socket) -> str:
    """Everything the server sends until it closes the connection or goes quiet."""
    received = b""
    try:
        while chunk := sock.recv(65536):
            received += chunk
            if b'"requestId"' in received:
                break
    except (TimeoutError, ConnectionResetError):
        pass
    return received.decode("latin-1")


def test_chunked_body_over_the_limit_is_refused_before_it_is_all_sent(tmp_path: Path) -> None:
    env = {"DATA_DIR": str(tmp_path), "MAX_REQUEST_BYTES": "4096"}
    with atelier_server(env) as server:
        run_cli(env, "accounts", "open", "alice", "--tokens", "5")
        token = run_cli(env, "token", "alice").stdout.strip()
        port = int(server.base_url.rsplit(":", 1)[1])
        with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
            sock.sendall(
                b"POST /api/generate HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                b"Authorization: Bearer " + token.encode() + b"\r\n"
                b"Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n"
            )
            chunk = b" " * 1024
            for _ in range(5):  # 5 KiB, just past the 4 KiB limit, and no terminating chunk
                sock.sendall(b"%x\r\n%s\r\n" % (len(chunk), chunk))
            answer = read_response(sock)
    assert answer.startswith("HTTP/1.1 413"), answer
    assert '"code":"REQUEST_TOO_LARGE"' in answer


def test_cli_refuses_user_ids_and_worker_counts_the_service_could_not_use(
    tmp_path: Path,
) -> None:
    env = {"DATA_DIR": str(tmp_path)}
    bad_id = run_cli(env, "accounts", "open", "bad id!")
    assert bad_id.returncode == 1 and "user id" in bad_id.stderr
    assert run_cli(env, "accounts", "show", "bad id!").returncode == 1
    no_workers = run_cli(env, "serve", "--workers", "0")
    assert no_workers.returncode == 2 and "--workers" in no_workers.stderr


def test_a_request_uvicorn_cannot_parse_gets_the_error_body_and_security_headers(
    tmp_path: Path,
) -> None:
    with atelier_server({"DATA_DIR": str(tmp_path)}) as server:
        port = int(server.base_url.rsplit(":", 1)[1])
        with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
            sock.sendall(b"GET /api/queue HTTP/1.1\r\nHost: x\r\nBad Header\r\n\r\n")
            answer = read_response(sock)
    head, _, body = answer.partition("\r\n\r\n")
    assert head.startswith("HTTP/1.1 400"), answer
    lines = head.lower().split("\r\n")
    for line in [
        "x-content-type-options: nosniff",
        "x-frame-options: deny",
        "x-xss-protection: 1; mode=block",
        "referrer-policy: strict-origin-when-cross-origin",
    ]:
        assert line in lines
    assert '"code":"VALIDATION_ERROR"' in body and '"success":false' in body


def port_of(server_url: str) -> int:
    return int(server_url.rsplit(":", 1)[1])


@pytest.mark.parametrize(
    "headers",
    [
        b"X-Big: " + b"a" * (17 * 1024) + b"\r\n",  # one header, 17 KiB
        b"".join(b"X-H%d: v\r\n" % n for n in range(101)),  # 101 small ones
    ],
    ids=["17-KiB", "101-headers"],
)
def test_request_heads_over_the_limits_get_431(tmp_path: Path, headers: bytes) -> None:
    with atelier_server({"DATA_DIR": str(tmp_path)}) as server:
        with socket.create_connection(("127.0.0.1", port_of(server.base_url)), timeout=10) as sock:
            sock.sendall(b"GET /api/queue HTTP/1.1\r\nHost: x\r\n" + headers + b"\r\n")
            answer = read_response(sock)
        assert httpx.get(f"{server.base_url}/api/generate").status_code == 200  # still serving
    head, _, body = answer.partition("\r\n\r\n")
    assert head.startswith("HTTP/1.1 431"), answer
    assert "x-content-type-options: nosniff" in head.lower().split("\r\n")
    assert '"code":"REQUEST_TOO_LARGE"' in body and '"success":false' in body


def closed_within(sock: socket.socket, seconds: float, trickle: bytes = b"") -> bytes | None:
    """What the server sends until it closes the connection, sending `trickle` a byte every
    0.2 s meanwhile; None if it is still open after `seconds`."""
    received = b""
    deadline = time.monotonic() + seconds
    sock.settimeout(0.2)
    while time.monotonic() < deadline:
        if trickle:
            try:
                sock.sendall(trickle[:1])
            except OSError:
                return received
            trickle = trickle[1:]
        try:
            chunk = sock.recv(65536)
        except TimeoutError:
            continue
        except ConnectionResetError:
            return received
        if not chunk:
            return received
        received += chunk
    return None


def test_requests_that_stop_arriving_are_closed_after_the_request_timeout(
    tmp_path: Path,
) -> None:
    env = {"DATA_DIR": str(tmp_path), "REQUEST_TIMEOUT_SECONDS": "1"}
    with atelier_server(env) as server:
        run_cli(env, "accounts", "open", "alice", "--tokens", "5")
        token = run_cli(env, "token", "alice").stdout.strip()
        address = ("127.0.0.1", port_of(server.base_url))
        with socket.create_connection(address, timeout=10) as sock:  # headers, a byte at a time
            trickled = closed_within(sock, 10, trickle=b"GET /api/queue HTTP/1.1\r\n" * 100)
        with socket.create_connection(address, timeout=10) as sock:  # half a body, then nothing
            sock.sendall(
                b"POST /api/generate HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                b"Authorization: Bearer " + token.encode() + b"\r\n"
                b'Content-Length: 100\r\n\r\n{"style": '
            )
            stalled = closed_within(sock, 10)
        assert httpx.get(f"{server.base_url}/api/generate").status_code == 200
    for answer in (trickled, stalled):
        assert answer is not None, "the connection was still open after 10 s"
        if answer:
            assert answer.startswith(b"HTTP/1.1 408"), answer
            assert b'"code":"REQUEST_TIMEOUT"' in answer


def test_a_client_that_hangs_up_mid_body_leaves_one_log_line(tmp_path: Path) -> None:
    env = {"DATA_DIR": str(tmp_path)}
    with atelier_server(env) as server:
        run_cli(env, "accounts", "open", "alice", "--tokens", "5")
        token = run_cli(env, "token", "alice").stdout.strip()
        with socket.create_connection(("127.0.0.1", port_of(server.base_url)), timeout=10) as sock:
            sock.sendall(
                b"POST /api/generate HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                b"Authorization: Bearer " + token.encode() + b"\r\n"
                b"Content-Length: 1000\r\n\r\n" + b'{"style": "realistic", ' + b" " * 400
            )
            time.sleep(0.5)  # the app is reading the body
        deadline = time.monotonic() + 10
        while "client left" not in server.log.read_text() and time.monotonic() < deadline:
            time.sleep(0.1)
        assert httpx.get(f"{server.base_url}/api/generate").status_code == 200
    log = server.log.read_text()
    assert log.count("client left before its request was received") == 1, log
    assert "Traceback" not in log and "ERROR" not in log, log
