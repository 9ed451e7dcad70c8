"""Prometheus text-format metrics: requests and latency by route and operation, events ingested, rejected
inputs, open subscriptions. Kept in process; each replica exposes its own."""

from __future__ import annotations

import bisect
from collections import defaultdict

BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)


class Metrics:
    def __init__(self) -> None:
        self.requests: dict[tuple[str, str, str, int], int] = defaultdict(int)
        self.latency: dict[tuple[str, str], list[int]] = {}
        self.latency_sum: dict[tuple[str, str], float] = defaultdict(float)
        self.rejected: dict[str, int] = defaultdict(int)

    def observe(self, route: str, method: str, operation: str, status: int, seconds: float) -> None:
        self.requests[(route, method, operation, status)] += 1
        key = (route, operation)
        counts = self.latency.setdefault(key, [0] * (len(BUCKETS) + 1))
        counts[bisect.bisect_left(BUCKETS, seconds)] += 1
        self.latency_sum[key] += seconds

    def reject(self, path: str) -> None:
        self.rejected[path] += 1

    def render(self, events_ingested: int, inserts: int, subscriptions: int) -> str:
        out = [
            "# HELP tracehouse_requests_total HTTP requests by route, method, GraphQL operation and status.",
            "# TYPE tracehouse_requests_total counter",
        ]
        for (route, method, operation, status), n in sorted(self.requests.items()):
            out.append(
                f'tracehouse_requests_total{{route="{route}",method="{method}",operation="{_esc(operation)}",'
                f'status="{status}"}} {n}'
            )
        out += [
            "# HELP tracehouse_request_duration_seconds Request latency by route and GraphQL operation.",
            "# TYPE tracehouse_request_duration_seconds histogram",
        ]
        for (route, operation), counts in sorted(self.latency.items()):
            labels = f'route="{route}",operation="{_esc(operation)}"'
            running = 0
            for bound, n in zip((*BUCKETS, float("inf")), counts, strict=True):
                running += n
                le = "+Inf" if bound == float("inf") else repr(bound)
                out.append(f'tracehouse_request_duration_seconds_bucket{{{labels},le="{le}"}} {running}')
            out.append(f"tracehouse_request_duration_seconds_sum{{{labels}}} {self.latency_sum[(route, operation)]}")
            out.append(f"tracehouse_request_duration_seconds_count{{{labels}}} {running}")
        out += [
            "# HELP tracehouse_events_ingested_total Events stored (each acknowledged once).",
            "# TYPE tracehouse_events_ingested_total counter",
            f"tracehouse_events_ingested_total {events_ingested}",
            "# HELP tracehouse_clickhouse_inserts_total Group-commit inserts into ClickHouse.",
            "# TYPE tracehouse_clickhouse_inserts_total counter",
            f"tracehouse_clickhouse_inserts_total {inserts}",
            "# HELP tracehouse_rejected_inputs_total Requests refused for invalid input (400, 413, 422).",
            "# TYPE tracehouse_rejected_inputs_total counter",
        ]
        out += [f'tracehouse_rejected_inputs_total{{route="{r}"}} {n}' for r, n in sorted(self.rejected.items())]
        out += [
            "# HELP tracehouse_open_subscriptions Live subscriptions open in this process.",
            "# TYPE tracehouse_open_subscriptions gauge",
            f"tracehouse_open_subscriptions {subscriptions}",
        ]
        return "\n".join(out) + "\n"


def _esc(value: str) -> str:
    return value.replace("\\", "\\\\").replace('"', '\\"')
