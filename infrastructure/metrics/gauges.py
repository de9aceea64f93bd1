"""The gauges read at scrape time from what every process shares (the views, the breaker's
state), so whichever worker answers /metrics tells the same."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator

from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from application.queries import ReadSide

logger = logging.getLogger(__name__)

CircuitOpen = Callable[[], bool]


def never_open() -> bool:
    """The generator's breaker lives in each worker process until its state is shared."""
    return False


class SharedStateGauges(Collector):
    def __init__(self, read_side: ReadSide | None, circuit_open: CircuitOpen = never_open) -> None:
        self.read_side = read_side
        self.circuit_open = circuit_open

    def describe(self) -> Iterator[Metric]:
        """What `collect` yields, without reading anything (at registration)."""
        yield from self._families()

    def collect(self) -> Iterator[Metric]:
        depth, capacity, lag, circuit = self._families()
        try:
            circuit.add_metric([], 1.0 if self.circuit_open() else 0.0)
        except Exception:
            logger.warning("could not read the generator's circuit state", exc_info=True)
        yield circuit
        if self.read_side is None:
            return  # a memory store has no views
        try:
            queue = self.read_side.pending_queue.status()
            statuses = self.read_side.status()
        except Exception:
            logger.warning("could not read the queue and the views for /metrics", exc_info=True)
            return
        depth.add_metric([], queue.depth)
        capacity.add_metric([], queue.capacity)
        for status in statuses:
            lag.add_metric([status.name], status.lag)
        yield from (depth, capacity, lag)

    @staticmethod
    def _families() -> tuple[GaugeMetricFamily, ...]:
        return (
            GaugeMetricFamily("atelier_queue_depth", "Generations pending"),
            GaugeMetricFamily("atelier_queue_capacity", "QUEUE_MAX_SIZE: pending allowed"),
            GaugeMetricFamily(
                "atelier_projection_lag_events",
                "Events of the log a view has still to apply",
                labels=["projection"],
            ),
            GaugeMetricFamily(
                "atelier_generator_circuit_open", "1 while the generator's breaker is open"
            ),
        )
