"""The counters and histograms the server processes record into, and the page they are read
from: this process's registry, or every worker's files in multi-process mode."""

from __future__ import annotations

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Histogram,
    disable_created_metrics,
    generate_latest,
)
from prometheus_client.multiprocess import MultiProcessCollector

from application.queries import ReadSide
from application.telemetry import AnsweredRequest
from infrastructure.metrics.gauges import CircuitOpen, SharedStateGauges, never_open
from infrastructure.metrics.processes import forget_dead_processes, multiprocess_directory

HTTP_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
BATCH_BUCKETS = (1, 2, 4, 8, 16, 32, 64)  # the group commit takes at most 64


class MetricInstruments:
    """Built once per server process (or per app in tests, each with its own registry)."""

    def __init__(self) -> None:
        # No `_created` series: multi-process mode has none, so one process has none either.
        disable_created_metrics()  # type: ignore[no-untyped-call]
        self.directory = multiprocess_directory()
        self.registry = CollectorRegistry()
        own = None if self.directory else self.registry  # else the files are the registry
        self.requests = Counter(
            "atelier_http_requests",
            "HTTP requests answered, by method, route template and status",
            ["method", "route", "status"],
            registry=own,
        )
        self.durations = Histogram(
            "atelier_http_request_duration_seconds",
            "Time to answer an HTTP request, by route template",
            ["route"],
            registry=own,
        )
        self.submissions = Counter(
            "atelier_submissions",
            "POST /api/generate decided: accepted, replayed, or the refusal's code",
            ["outcome"],
            registry=own,
        )
        self.webhook_messages = Counter(
            "atelier_webhook_messages",
            "Webhook delivery attempts, by outcome",
            ["outcome"],
            registry=own,
        )
        self.admission_batches = Histogram(
            "atelier_admission_batch_size",
            "Submissions the group commit decided in one batch",
            buckets=BATCH_BUCKETS,
            registry=own,
        )
        if self.directory:
            MultiProcessCollector(self.registry, self.directory)  # type: ignore[no-untyped-call]
        # Each (method, route, status)'s counter and histogram children, looked up once.
        self._by_request: dict[tuple[str, str, int], tuple[Counter, Histogram]] = {}

    def request_answered(self, request: AnsweredRequest) -> None:
        method = request.method if request.method in HTTP_METHODS else "other"
        key = (method, request.route, request.status)
        series = self._by_request.get(key)
        if series is None:  # a few dozen routes, methods and statuses: kept, not looked up
            series = (
                self.requests.labels(method, request.route, str(request.status)),
                self.durations.labels(request.route),
            )
            self._by_request[key] = series
        series[0].inc()
        series[1].observe(request.seconds)

    def submission_decided(self, outcome: str) -> None:
        self.submissions.labels(outcome).inc()

    def admission_batch(self, size: int) -> None:
        self.admission_batches.observe(size)

    def webhook_message(self, outcome: str) -> None:
        self.webhook_messages.labels(outcome).inc()

    def page(
        self, read_side: ReadSide | None, circuit_open: CircuitOpen = never_open
    ) -> MetricsPage:
        self.registry.register(SharedStateGauges(read_side, circuit_open))
        return MetricsPage(self.registry, self.directory)


class MetricsPage:
    """GET /metrics: the Prometheus text format."""

    content_type = CONTENT_TYPE_LATEST

    def __init__(self, registry: CollectorRegistry, directory: str | None) -> None:
        self.registry = registry
        self.directory = directory

    def render(self) -> bytes:
        if self.directory:
            forget_dead_processes(self.directory)
        return generate_latest(self.registry)
