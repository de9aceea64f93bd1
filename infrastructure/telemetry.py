"""The Telemetry port's adapter: each report to the metrics (unless METRICS_ENABLED is false)
and, for an answered request, to its log line."""

from __future__ import annotations

from application.queries import MetricsExposition, ReadSide
from application.telemetry import AnsweredRequest
from infrastructure.logs.request_log import RequestLog
from infrastructure.metrics.gauges import CircuitOpen, never_open
from infrastructure.metrics.instruments import MetricInstruments
from infrastructure.settings import Settings


class ServiceTelemetry:
    def __init__(self, metrics: MetricInstruments | None, request_log: RequestLog) -> None:
        self.metrics = metrics
        self.request_log = request_log

    def request_answered(self, request: AnsweredRequest) -> None:
        if self.metrics is not None:
            self.metrics.request_answered(request)
        self.request_log.write(request)

    def submission_decided(self, outcome: str) -> None:
        if self.metrics is not None:
            self.metrics.submission_decided(outcome)

    def admission_batch(self, size: int) -> None:
        if self.metrics is not None:
            self.metrics.admission_batch(size)

    def webhook_message(self, outcome: str) -> None:
        """For the webhook deliverer: one call per delivery attempt."""
        if self.metrics is not None:
            self.metrics.webhook_message(outcome)

    def metrics_page(
        self, read_side: ReadSide | None, circuit_open: CircuitOpen = never_open
    ) -> MetricsExposition | None:
        """None when metrics are off: /metrics is then not served."""
        return None if self.metrics is None else self.metrics.page(read_side, circuit_open)


def service_telemetry(settings: Settings) -> ServiceTelemetry:
    return ServiceTelemetry(
        MetricInstruments() if settings.metrics_enabled else None, RequestLog(settings.log_format)
    )
