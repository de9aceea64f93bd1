"""GET /metrics in one process: counters move by exactly the requests sent, by route template;
the submissions' outcomes; the gauges read from the views; METRICS_TOKEN."""

from __future__ import annotations

from uuid import uuid4

from starlette.testclient import TestClient

from domain.circuit import FAILURE_THRESHOLD
from infrastructure.projections.registry import PROJECTIONS
from tests.http.conftest import ClientFactory
from tests.support.builders import admin, bearer, generation_body
from tests.support.clients import open_account, post_generation
from tests.support.metrics import Samples, families, moved, parse_samples, value

REQUESTS = "atelier_http_requests_total"
DURATION_COUNT = "atelier_http_request_duration_seconds_count"
SUBMISSIONS = "atelier_submissions_total"
METRICS_TOKEN = "metrics-token-for-the-scraper-only"


def scrape(client: TestClient, **headers: str) -> Samples:
    response = client.get("/metrics", headers=headers)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/plain; version=")
    return parse_samples(response.text)


def test_each_request_counts_once_by_method_route_template_and_status(client: TestClient) -> None:
    open_account(client, "alice", 10)
    generation_id = post_generation(client, "alice")
    before = scrape(client)
    for _ in range(2):
        assert client.get(f"/api/generations/{generation_id}", headers=bearer("alice")).is_success
    assert client.get(f"/api/generations/{uuid4()}", headers=bearer("alice")).status_code == 404
    assert client.get("/no/such/path").status_code == 404
    assert client.delete("/api/generate").status_code == 405
    page = client.get("/metrics")
    after = parse_samples(page.text)

    one = "/api/generations/{generation_id}"
    counted = {labels: n for (name, labels), n in moved(before, after).items() if name == REQUESTS}
    assert counted == {
        (("method", "GET"), ("route", one), ("status", "200")): 2,
        (("method", "GET"), ("route", one), ("status", "404")): 1,
        (("method", "GET"), ("route", "unmatched"), ("status", "404")): 1,
        (("method", "DELETE"), ("route", "/api/generate"), ("status", "405")): 1,
        (("method", "GET"), ("route", "/metrics"), ("status", "200")): 1,  # the first scrape
    }
    assert value(after, DURATION_COUNT, route=one) - value(before, DURATION_COUNT, route=one) == 3
    assert value(after, DURATION_COUNT, route="unmatched") == 1
    assert generation_id not in page.text and "/no/such/path" not in page.text


def test_submissions_count_by_outcome_and_batches_by_size(make_client: ClientFactory) -> None:
    client = make_client(queue_max_size=7)
    open_account(client, "alice", 1)
    open_account(client, "bob", 0)
    keyed = {**bearer("alice"), "Idempotency-Key": "order-1"}
    assert client.post("/api/generate", json=generation_body(), headers=keyed).status_code == 201
    assert client.post("/api/generate", json=generation_body(), headers=keyed).status_code == 201
    assert (
        client.post("/api/generate", json=generation_body(), headers=bearer("bob")).json()["code"]
        == "INSUFFICIENT_TOKENS"
    )
    assert client.post("/api/generate", json={}, headers=bearer("bob")).status_code == 400
    assert client.post("/api/generate", json=generation_body()).status_code == 401

    samples = scrape(client)
    outcomes = {
        labels[0][1]: count for (name, labels), count in samples.items() if name == SUBMISSIONS
    }
    assert outcomes == {
        "accepted": 1,
        "replayed": 1,
        "INSUFFICIENT_TOKENS": 1,
        "VALIDATION_ERROR": 1,
        "AUTHENTICATION_REQUIRED": 1,
    }
    # The acceptance and the refusal for tokens were decided by the group commit, one each.
    assert value(samples, "atelier_admission_batch_size_count") == 2
    assert value(samples, "atelier_admission_batch_size_sum") == 2
    assert value(samples, "atelier_queue_depth") == 1
    assert value(samples, "atelier_queue_capacity") == 7


def test_every_metric_of_the_contract_is_on_the_page(client: TestClient) -> None:
    text = client.get("/metrics").text
    assert families(text) == {
        "atelier_http_requests": "counter",
        "atelier_http_request_duration_seconds": "histogram",
        "atelier_submissions": "counter",
        "atelier_queue_depth": "gauge",
        "atelier_queue_capacity": "gauge",
        "atelier_projection_lag_events": "gauge",
        "atelier_webhook_messages": "counter",
        "atelier_generator_circuit_open": "gauge",
        "atelier_admission_batch_size": "histogram",
    }
    samples = parse_samples(text)
    views = {labels[0][1] for name, labels in samples if name == "atelier_projection_lag_events"}
    assert views == {projection.name for projection in PROJECTIONS}
    assert value(samples, "atelier_generator_circuit_open") == 0


def test_metrics_token_is_required_once_set(make_client: ClientFactory) -> None:
    client = make_client(metrics_token=METRICS_TOKEN)
    for headers in (
        {},
        {"Authorization": "Bearer not-the-metrics-token"},
        {"Authorization": METRICS_TOKEN},
        bearer("root", "admin"),
    ):
        refused = client.get("/metrics", headers=headers)
        assert refused.status_code == 401
        assert refused.headers["www-authenticate"] == "Bearer"
        body = refused.json()
        assert (body["success"], body["code"]) == (False, "AUTHENTICATION_REQUIRED")
        assert body["requestId"] == refused.headers["x-request-id"]
    samples = scrape(client, Authorization=f"Bearer {METRICS_TOKEN}")
    refusals = (("method", "GET"), ("route", "/metrics"), ("status", "401"))
    assert samples[(REQUESTS, refusals)] == 4


def test_metrics_can_be_switched_off(make_client: ClientFactory) -> None:
    client = make_client(metrics_enabled=False)
    answer = client.get("/metrics")
    assert (answer.status_code, answer.json()["code"]) == (404, "NOT_FOUND")


def test_the_circuit_gauge_shows_the_shared_breaker_open(client: TestClient) -> None:
    atelier = client.app.state.atelier  # type: ignore[attr-defined]
    for _ in range(FAILURE_THRESHOLD):  # as workers record upstream failures in a row
        atelier.record_generator_outcome("dry-run", upstream_healthy=False)
    assert value(scrape(client), "atelier_generator_circuit_open") == 1
    stats = client.get("/api/admin/stats", headers=admin()).json()["data"]
    assert stats["generator"] == {"name": "dry-run", "circuit": "open"}
