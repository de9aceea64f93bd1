"""A real `atelier serve`: /metrics summed over two worker processes, JSON and text logs, and no
token, secret or Authorization value in the whole log of a workload."""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
import pytest
from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.multiprocess import MultiProcessCollector

from infrastructure.tokens import mint_token
from tests.support.builders import TEST_SECRET, admin, bearer, generation_body
from tests.support.metrics import Samples, parse_samples, value
from tests.support.servers import atelier_server, free_port, run_cli
from tests.support.stores import settings_env, sqlite_settings

pytestmark = pytest.mark.slow

REQUESTS = "atelier_http_requests_total"
METRICS_TOKEN = "scraper-token-4d2c9e7a1b"
ISO_TIMESTAMP = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d+Z ")


def server_env(tmp_path: Path, **extra: str) -> dict[str, str]:
    settings = sqlite_settings(
        tmp_path / "var", max_requests_per_hour=10_000, queue_max_size=10_000
    )
    (tmp_path / "tmp").mkdir(exist_ok=True)  # where `atelier serve` makes its metrics directory
    return {**settings_env(settings), "TMPDIR": str(tmp_path / "tmp"), **extra}


def scrape(base_url: str, **headers: str) -> Samples:
    page = httpx.get(f"{base_url}/metrics", headers=headers)
    assert page.status_code == 200, page.text
    return parse_samples(page.text)


def counted_outside_metrics(samples: Samples) -> dict[tuple[tuple[str, str], ...], float]:
    return {
        labels: count
        for (name, labels), count in samples.items()
        if name == REQUESTS and dict(labels)["route"] != "/metrics"
    }


def requests_by_process(directory: Path, scratch: Path) -> dict[str, float]:
    """Each worker's own count of answered requests, read from its file alone."""
    counts = {}
    for file in directory.glob("counter_*.db"):
        alone = scratch / file.stem
        alone.mkdir(parents=True)
        shutil.copy(file, alone / file.name)
        registry = CollectorRegistry()
        MultiProcessCollector(registry, str(alone))
        samples = parse_samples(generate_latest(registry).decode())
        counts[file.stem] = sum(counted_outside_metrics(samples).values())
    return counts


def test_counters_are_summed_over_two_worker_processes(tmp_path: Path) -> None:
    env = server_env(tmp_path)
    with atelier_server(env, workers=2) as server:
        url = server.base_url
        opened = httpx.post(
            f"{url}/api/admin/accounts", json={"userId": "alice", "tokens": 10_000}, headers=admin()
        )
        assert opened.status_code == 201, opened.text
        before = scrape(url)
        directory = next((tmp_path / "tmp").glob("atelier-metrics-*"))
        sent: dict[tuple[str, str, str], int] = {}

        def send(method: str, path: str, route: str, **kwargs: Any) -> None:
            answer = httpx.request(method, f"{url}{path}", **kwargs)  # a connection each
            key = (method, route, str(answer.status_code))
            sent[key] = sent.get(key, 0) + 1

        calls: list[Callable[[], None]] = []
        for _ in range(4):
            calls += [
                lambda: send(
                    "POST", "/api/generate", "/api/generate",
                    json=generation_body(), headers=bearer("alice"),
                ),
                lambda: send("GET", "/api/queue", "/api/queue", headers=bearer("alice")),
                lambda: send("GET", "/nowhere/12345", "unmatched"),
            ]  # fmt: skip
        rounds = 0
        with ThreadPoolExecutor(max_workers=6) as pool:
            # Until each process has answered some (the kernel chooses who accepts).
            while rounds < 20:
                list(pool.map(lambda call: call(), calls))
                rounds += 1
                by_process = requests_by_process(directory, tmp_path / f"alone-{rounds}")
                if len([n for n in by_process.values() if n]) == 2:
                    break
        assert len(by_process) == 2 and all(by_process.values()), by_process

        expected = {
            (("method", m), ("route", r), ("status", s)): n for (m, r, s), n in sent.items()
        }
        assert {status for _, _, status in sent} == {"201", "200", "404"}
        baseline = counted_outside_metrics(before)
        for scraped in range(6):  # answered by either process: the same sums
            samples = scrape(url)
            counted = counted_outside_metrics(samples)
            moved = {k: n - baseline.get(k, 0) for k, n in counted.items() if n != baseline.get(k)}
            assert moved == expected
            submissions = value(samples, "atelier_submissions_total", outcome="accepted")
            assert submissions == sent[("POST", "/api/generate", "201")]
            metrics_route = (("method", "GET"), ("route", "/metrics"), ("status", "200"))
            assert samples[(REQUESTS, metrics_route)] == 1 + scraped  # each counts once answered
        each = requests_by_process(directory, tmp_path / "alone-at-last")
        assert sum(each.values()) == sum(counted.values())  # the page is the processes' sum
    assert not list((tmp_path / "tmp").glob("atelier-metrics-*"))  # removed when serve stopped


def test_json_logs_carry_every_request_and_no_secret(tmp_path: Path) -> None:
    env = server_env(tmp_path, LOG_FORMAT="json", METRICS_TOKEN=METRICS_TOKEN)
    user = bearer("alice")
    worker = bearer("fleet", "worker")
    other_secret = mint_token("another-secret-that-is-long-enough-for-hs256", "alice")
    bad_tokens = ["not-a-jwt-at-all-7f3a", other_secret, mint_token(TEST_SECRET, "ghost")]
    secrets = [
        TEST_SECRET,
        METRICS_TOKEN,
        "wrong-scraper-token-9b1e",
        *bad_tokens,
        *(header["Authorization"].split()[1] for header in (user, worker, admin())),
    ]
    answers: list[httpx.Response] = []
    with (
        atelier_server(env, workers=2, access_log=True) as server,
        httpx.Client(base_url=server.base_url) as client,
    ):

        def call(method: str, path: str, **kwargs: Any) -> httpx.Response:
            answer = client.request(method, path, **kwargs)
            answers.append(answer)
            return answer

        call("POST", "/api/admin/accounts", json={"userId": "alice", "tokens": 5}, headers=admin())
        call("POST", "/api/admin/accounts/alice/grants", json={"amount": 3, "reason": "welcome"},
             headers=admin())  # fmt: skip
        for token in bad_tokens:
            call("GET", "/api/account", headers={"Authorization": f"Bearer {token}"})
        created = call("POST", "/api/generate", json=generation_body(), headers=user)
        generation_id = created.json()["data"]["_id"]
        call("GET", f"/api/generations/{generation_id}", headers=user)
        call("POST", "/api/generate", json={"style": 1}, headers=user)
        claimed = call("POST", "/api/worker/claim", json={"workerId": "w1"}, headers=worker)
        assert claimed.status_code == 200, claimed.text
        call("POST", f"/api/worker/generations/{generation_id}/complete",
             json={"workerId": "w1", "resultImages": ["https://cdn.example.com/r.png"]},
             headers=worker)  # fmt: skip
        call("GET", "/api/admin/stats", headers=admin())
        call("GET", "/metrics", headers={"Authorization": "Bearer wrong-scraper-token-9b1e"})
        call("GET", "/metrics", headers={"Authorization": f"Bearer {METRICS_TOKEN}"})
        log_path = server.log
    text = log_path.read_text()

    for secret in secrets:
        assert secret not in text
    assert "bearer" not in text.lower() and "authorization" not in text.lower()
    lines = [json.loads(line) for line in text.splitlines() if line.strip()]
    requests = {line["requestId"]: line for line in lines if line["event"] == "request"}
    for answer in answers:
        line = requests[answer.headers["x-request-id"]]
        assert set(line) >= {"method", "route", "status", "durationMs", "requestId", "userId"}
        assert (line["method"], line["status"]) == (answer.request.method, answer.status_code)
        if answer.status_code >= 400:
            assert line["code"] == answer.json()["code"]
    by_status = [(line["route"], line["status"], line["userId"]) for line in requests.values()]
    assert ("/api/account", 401, None) in by_status
    assert ("/api/generations/{generation_id}", 200, "alice") in by_status
    assert ("/api/worker/claim", 200, "fleet") in by_status
    assert ("/metrics", 401, None) in by_status and ("/metrics", 200, None) in by_status
    assert all({"timestamp", "level", "logger", "event"} <= set(line) for line in lines)


def test_text_logs_have_timestamps_and_request_ids(tmp_path: Path) -> None:
    env = server_env(tmp_path, LOG_FORMAT="text")
    with atelier_server(env, access_log=True) as server:
        httpx.get(f"{server.base_url}/api/queue", headers={"X-Request-ID": "req-text-7"})
        log_path = server.log
    lines = log_path.read_text().splitlines()
    line = next(line for line in lines if "requestId=req-text-7" in line)
    assert ISO_TIMESTAMP.match(line) and "route=/api/queue" in line and "status=401" in line
    assert "code=AUTHENTICATION_REQUIRED" in line
    assert all(ISO_TIMESTAMP.match(line) for line in lines if "Started server process" in line)


@pytest.mark.parametrize(("variable", "bad"), [("LOG_FORMAT", "xml"), ("LOG_LEVEL", "loud")])
def test_a_bad_log_setting_stops_start_up_naming_it(
    tmp_path: Path, variable: str, bad: str
) -> None:
    env = {**server_env(tmp_path), variable: bad}
    try:
        refused = run_cli(env, "serve", "--port", str(free_port()))
    except subprocess.TimeoutExpired:
        pytest.fail(f"atelier serve started with {variable}={bad}")
    assert refused.returncode == 2 and variable in refused.stderr


def test_a_killed_workers_counts_stay_in_the_sums(tmp_path: Path) -> None:
    env = server_env(tmp_path)
    queue = (("method", "GET"), ("route", "/api/queue"), ("status", "401"))
    with atelier_server(env, workers=2) as server:
        directory = next((tmp_path / "tmp").glob("atelier-metrics-*"))
        sent = 0
        with ThreadPoolExecutor(max_workers=6) as pool:
            for rounds in range(20):  # until each process has answered some
                list(pool.map(lambda _: httpx.get(f"{server.base_url}/api/queue"), range(12)))
                sent += 12
                by_process = requests_by_process(directory, tmp_path / f"alone-{rounds}")
                if len([n for n in by_process.values() if n]) == 2:
                    break
        victim = int(next(stem for stem, n in by_process.items() if n).rsplit("_", 1)[1])
        os.kill(victim, signal.SIGKILL)
        deadline = time.monotonic() + 60
        while len(list(directory.glob("histogram_*.db"))) < 3:  # uvicorn starts a replacement
            assert time.monotonic() < deadline, server.log.read_text()[-3000:]
            time.sleep(0.2)
        for _ in range(4):  # whichever process answers, the dead one's counts are in
            samples = scrape(server.base_url)
            assert samples[(REQUESTS, queue)] == sent
