"""Prometheus metrics (prometheus_client): requests and latency by route and operation, events ingested,
rejected inputs, open subscriptions, embedded Postgres restarts. Kept in process; each replica exposes its
own, on /metrics behind its own token (not an API key: counters span every tenant).

Labels are bounded: routes are the app's route templates (or "unmatched"), methods the HTTP ones (or
"other"), and GraphQL operation names (chosen by clients, so unbounded) are kept for the first
`max_operations` distinct names seen; later new names count under "other".
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass

from prometheus_client import CollectorRegistry, Counter, Histogram, disable_created_metrics, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
OTHER = "other"
MAX_OPERATION_LENGTH = 100
CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"

disable_created_metrics()  # a `_created` series per label set doubles the series count for nothing we use


@dataclass(frozen=True)
class Gauges:
    """Values read from the running server at scrape time."""

    events_ingested: int = 0
    clickhouse_inserts: int = 0
    open_subscriptions: int = 0
    postgres_restarts: int = 0
    malloc_trims: int = 0
    group_commit_seconds: float = 0.0
    live_publish_seconds: float = 0.0


class _ServerCollector(Collector):
    def __init__(self) -> None:
        self.source: Callable[[], Gauges] = Gauges

    def collect(self) -> Iterator[Metric]:
        g = self.source()
        yield CounterMetricFamily(
            "tracehouse_events_ingested", "Events stored (each acknowledged once).", value=g.events_ingested
        )
        yield CounterMetricFamily(
            "tracehouse_clickhouse_inserts", "Group-commit inserts into ClickHouse.", value=g.clickhouse_inserts
        )
        yield CounterMetricFamily(
            "tracehouse_group_commit_seconds",
            "Time group commits took, from their start to acknowledging their requests (summed).",
            value=g.group_commit_seconds,
        )
        yield CounterMetricFamily(
            "tracehouse_live_publish_seconds",
            "The part of group_commit_seconds spent publishing to the live bus.",
            value=g.live_publish_seconds,
        )
        yield GaugeMetricFamily(
            "tracehouse_open_subscriptions", "Live subscriptions open in this process.", value=g.open_subscriptions
        )
        yield CounterMetricFamily(
            "tracehouse_postgres_restarts", "Embedded Postgres restarts after it died.", value=g.postgres_restarts
        )
        yield CounterMetricFamily(
            "tracehouse_malloc_trims", "Times malloc's free memory went back to the OS after big responses.",
            value=g.malloc_trims,
        )  # fmt: skip


class Metrics:
    def __init__(self, max_operations: int = 50) -> None:
        self.max_operations = max_operations
        self.registry = CollectorRegistry()
        self._operations: set[str] = set()
        self._requests = Counter(
            "tracehouse_requests", "HTTP requests by route, method, GraphQL operation and status.",
            ("route", "method", "operation", "status"), registry=self.registry,
        )  # fmt: skip
        self._latency = Histogram(
            "tracehouse_request_duration_seconds", "Request latency by route and GraphQL operation.",
            ("route", "operation"), buckets=BUCKETS, registry=self.registry,
        )  # fmt: skip
        self._rejected = Counter(
            "tracehouse_rejected_inputs", "Requests refused for invalid input (400, 413, 422).", ("route",),
            registry=self.registry,
        )  # fmt: skip
        self._server = _ServerCollector()
        self.registry.register(self._server)

    def read_from(self, source: Callable[[], Gauges]) -> None:
        """Where the scrape-time values come from (the writer, the live bus, the Postgres supervisor)."""
        self._server.source = source

    def operation_label(self, operation: str) -> str:
        label = operation[:MAX_OPERATION_LENGTH]
        if label in self._operations or not label:
            return label
        if len(self._operations) >= self.max_operations:
            return OTHER
        self._operations.add(label)
        return label

    def observe(self, route: str, method: str, operation: str, status: int, seconds: float) -> None:
        op = self.operation_label(operation)
        self._requests.labels(route, method if method in METHODS else OTHER, op, str(status)).inc()
        self._latency.labels(route, op).observe(seconds)

    def reject(self, route: str) -> None:
        self._rejected.labels(route).inc()

    def render(self) -> bytes:
        return generate_latest(self.registry)
