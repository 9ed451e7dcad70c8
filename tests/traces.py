"""Building test traces through the public write paths."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from tests.conftest import Tenant

LOG_SPANS = "mutation($s: [SpanInput!]!) { logSpans(spans: $s) { count } }"
INGEST = "mutation($e: [EventInput!]!) { ingestEvents(events: $e) { count eventIds } }"
T0 = datetime(2024, 3, 1, tzinfo=UTC)


def tree_spans(execution_id: str, count: int, depth: int, fail: str | None = None) -> list[dict[str, Any]]:
    """`count` spans: a chain `depth` deep from the root, the rest spread under the chain's spans.
    Every third span is a model call with usage and cost."""
    spans: list[dict[str, Any]] = []
    for i in range(count):
        parent = None if i == 0 else f"s{i - 1}" if i < depth else f"s{i % depth}"
        start = T0 + timedelta(milliseconds=i)
        span: dict[str, Any] = {
            "id": f"s{i}", "executionId": execution_id, "parentId": parent, "name": "root" if i == 0 else f"step {i}",
            "kind": "llm" if i % 3 == 1 else "chain", "startTime": start.isoformat(),
            "endTime": (start + timedelta(seconds=1)).isoformat(), "inputs": {"i": i}, "outputs": {"o": i},
        }  # fmt: skip
        if i % 3 == 1:
            span["usage"] = {"model": "gpt-4o" if i % 2 else "claude", "inputTokens": 10, "outputTokens": 2}
            span["cost"] = {"value": 0.5, "unit": "USD"}
        if fail == span["id"]:
            span["status"] = "FAILED"
            span["error"] = {"message": "boom", "code": "E1"}
        spans.append(span)
    return spans


async def log_trace(tenant: Tenant, execution_id: str, count: int, depth: int, fail: str | None = None) -> None:
    spans = tree_spans(execution_id, count, depth, fail)
    for i in range(0, len(spans), 1000):
        await tenant.gql_data(LOG_SPANS, {"s": spans[i : i + 1000]})


async def log_events(tenant: Tenant, execution_id: str, count: int, span_count: int) -> list[str]:
    events = [
        {"name": "tool.call.noted", "executionId": execution_id, "spanId": f"s{i % span_count}",
         "timestamp": (T0 + timedelta(microseconds=1000 * i + 500)).isoformat(),
         "actor": {"type": "agent", "id": f"agent-{i % 7}"}, "resource": {"type": "artifact", "id": f"art-{i % 5}"},
         "correlationId": f"corr-{execution_id}", "payload": {"n": i}}
        for i in range(count)
    ]  # fmt: skip
    return (await tenant.gql_data(INGEST, {"e": events}))["ingestEvents"]["eventIds"]
