"""Ingest throughput: REST bulk, GraphQL batches and single-event requests against `tracehouse serve`
(one process, embedded stores), each beside the raw clickhouse-connect insert of the same rows.

Run: `make bench` (or `.venv/bin/python -m bench.ingest`). Prints a markdown table.
"""

from __future__ import annotations

import asyncio
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import clickhouse_connect
import orjson

from bench.common import BENCH_KEY, median, percentile, server, table
from bench.loadgen import post_all
from ingest import vellum
from ingest.records import EVENT_COLUMNS
from storage.clickhouse.client import ChdbClickHouse
from storage.clickhouse.migrations import migrate

BULK = 1_000
BULK_REQUESTS = 120
GQL_REQUESTS = 20
SINGLE_REQUESTS = 3_000
CONCURRENCY = 32
OTLP_BATCH = 512
OTLP_REQUESTS = 40
T0 = datetime(2024, 1, 15, tzinfo=UTC)


def vellum_events(n: int) -> list[dict[str, Any]]:
    trace = str(uuid.uuid4())
    out = []
    for i in range(n):
        phase = ("initiated", "streaming", "fulfilled")[i % 3]
        out.append(
            {
                "id": str(uuid.uuid4()),
                "name": f"node.execution.{phase}",
                "timestamp": (T0 + timedelta(milliseconds=i)).isoformat(),
                "trace_id": trace,
                "span_id": f"span-{i // 3}",
                "parent": {"type": "WORKFLOW", "span_id": "root"},
                "body": {
                    "node_definition": {"name": "Prompt", "module": ["bots", "prompt"], "id": "node-def"},
                    "inputs" if phase == "initiated" else "outputs": {"text": "x" * 120},
                },
            }
        )
    return out


def otlp_request(n: int) -> bytes:
    """One OTLP/HTTP protobuf export of n LLM spans (OpenInference attributes) in one trace."""
    from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest

    request = ExportTraceServiceRequest()
    scope_spans = request.resource_spans.add().scope_spans.add()
    trace_id = uuid.uuid4().bytes
    start = int(T0.timestamp() * 1e9)
    for i in range(n):
        span = scope_spans.spans.add()
        span.trace_id, span.span_id, span.name = trace_id, uuid.uuid4().bytes[:8], f"llm-{i}"
        span.start_time_unix_nano, span.end_time_unix_nano = start + i * 1000, start + i * 1000 + 500
        for key, value in (("openinference.span.kind", "LLM"), ("llm.model_name", "gpt-4o"),
                           ("input.value", "x" * 120), ("output.value", "y" * 120)):  # fmt: skip
            attribute = span.attributes.add()
            attribute.key, attribute.value.string_value = key, value
        for key, count in (("llm.token_count.prompt", 100), ("llm.token_count.completion", 20)):
            attribute = span.attributes.add()
            attribute.key, attribute.value.int_value = key, count
    return request.SerializeToString()


def canonical_events(n: int) -> list[dict[str, Any]]:
    return [
        {"name": "tool.execution.fulfilled", "executionId": "ex", "spanId": f"s{i}",
         "actor": {"type": "agent", "id": "a1"}, "payload": {"outputs": {"text": "x" * 120}}}
        for i in range(n)
    ]  # fmt: skip


async def run_server_workloads(url: str) -> dict[str, tuple[float, list[float]]]:
    results: dict[str, tuple[float, list[float]]] = {}
    await post_all(url, "/monitoring/v1/events", BENCH_KEY, [orjson.dumps(vellum_events(BULK))], 1)  # warm-up

    bodies = [orjson.dumps(vellum_events(BULK)) for _ in range(BULK_REQUESTS)]
    start = time.perf_counter()
    lat = await post_all(url, "/monitoring/v1/events", BENCH_KEY, bodies, 4)
    results["rest_bulk"] = (BULK * BULK_REQUESTS / (time.perf_counter() - start), lat)

    query = "mutation($e: [EventInput!]!) { ingestEvents(events: $e) { count } }"
    bodies = [orjson.dumps({"query": query, "variables": {"e": canonical_events(BULK)}}) for _ in range(GQL_REQUESTS)]
    start = time.perf_counter()
    lat = await post_all(url, "/graphql", BENCH_KEY, bodies, 4, check_graphql=True)
    results["graphql_bulk"] = (BULK * GQL_REQUESTS / (time.perf_counter() - start), lat)

    bodies = [otlp_request(OTLP_BATCH) for _ in range(OTLP_REQUESTS)]
    start = time.perf_counter()
    lat = await post_all(url, "/v1/traces", BENCH_KEY, bodies, 4, content_type="application/x-protobuf")
    results["otlp"] = (OTLP_BATCH * OTLP_REQUESTS / (time.perf_counter() - start), lat)

    bodies = [orjson.dumps(vellum_events(1)[0]) for _ in range(SINGLE_REQUESTS)]
    start = time.perf_counter()
    lat = await post_all(url, "/monitoring/v1/events", BENCH_KEY, bodies, CONCURRENCY)
    results["rest_single"] = (SINGLE_REQUESTS / (time.perf_counter() - start), lat)
    return results


def raw_insert_rate(batch_size: int, batches: int) -> float:
    """The floor: clickhouse-connect inserting the same canonical rows straight into chDB."""
    with tempfile.TemporaryDirectory(prefix="tracehouse-raw-") as d:
        dsn = f"chdb://{d}/clickhouse"
        ch = ChdbClickHouse(dsn, 1)
        asyncio.run(migrate(ch))
        client = clickhouse_connect.get_client(dsn=dsn)
        rows_batches = [
            [e.row("tenant") for e in vellum.adapt(vellum_events(batch_size)).events] for _ in range(batches)
        ]
        start = time.perf_counter()
        for rows in rows_batches:
            client.insert("events", rows, column_names=list(EVENT_COLUMNS))
        elapsed = time.perf_counter() - start
        client.close()
        asyncio.run(ch.close())
    return batch_size * batches / elapsed


def main() -> None:
    raw_bulk = raw_insert_rate(BULK, BULK_REQUESTS)
    raw_single = raw_insert_rate(1, 500)
    with server() as proc:
        results = asyncio.run(run_server_workloads(proc.url))
    rows = []
    for name, label, unit, raw in (
        ("rest_bulk", "REST /monitoring/v1/events, 1,000/request, 4 concurrent", "events/s", raw_bulk),
        ("graphql_bulk", "GraphQL ingestEvents, 1,000/request, 4 concurrent", "events/s", raw_bulk),
        ("otlp", "OTLP/HTTP protobuf, 512 spans/request, 4 concurrent", "spans/s", raw_bulk),
        ("rest_single", f"REST single event, concurrency {CONCURRENCY}", "req/s", raw_single),
    ):
        rate, lat = results[name]
        rows.append([label, f"{rate:,.0f} {unit}", f"{median(lat) * 1000:.1f}", f"{percentile(lat, 99) * 1000:.1f}",
                     f"{raw:,.0f} rows/s", f"{raw / rate:.1f}x"])  # fmt: skip
    table(
        "Ingest (one server process, embedded chDB + Postgres)",
        ["workload", "throughput", "p50 ms", "p99 ms", "raw insert of same rows", "raw/server"],
        rows,
    )


if __name__ == "__main__":
    main()
