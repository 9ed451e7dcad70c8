"""Ingest throughput: REST bulk, GraphQL batches and single-event requests against `tracehouse serve`
(one process, embedded stores), each beside the raw clickhouse-connect insert of the same rows; how long
a 10,000-span OTLP export takes to be queryable; and the live bus's share of group-commit time with no
subscriber and with one (read from the server's /metrics).

Run: `make bench` (or `.venv/bin/python -m bench.ingest`). Prints markdown tables, each figure beside its
goal where it has one.
"""

from __future__ import annotations

import asyncio
import os
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import clickhouse_connect
import httpx
import orjson

from bench.common import BENCH_KEY, median, percentile, server, table
from bench.loadgen import post_all
from ingest import vellum
from ingest.records import EVENT_COLUMNS, event_columns
from storage.clickhouse.client import ChdbClickHouse
from storage.clickhouse.events import insert_events
from storage.clickhouse.migrations import migrate

BULK = 1_000
BULK_REQUESTS = 120
GQL_REQUESTS = 20
SINGLE_REQUESTS = 3_000
CONCURRENCY = 32
OTLP_BATCH = 512
OTLP_REQUESTS = 40
BIG_EXPORT = 10_000  # spans in one OTLP request: from POST to queryable
BIG_EXPORT_RUNS = 5
LIVE_REQUESTS = 40  # REST bulk requests while one subscriber watches the tenant
METRICS_TOKEN = "bench-metrics-token"
T0 = datetime(2024, 1, 15, tzinfo=UTC)
GOALS = {"rest_bulk": 60_000, "otlp_queryable": 0.6}
SPAN_COUNT = "query($id: ID!) { execution(id: $id) { spanCount } }"


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


def otlp_request(n: int, trace_id: bytes | None = None) -> bytes:
    """One OTLP/HTTP protobuf export of n LLM spans (OpenInference attributes) in one trace."""
    from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest

    request = ExportTraceServiceRequest()
    scope_spans = request.resource_spans.add().scope_spans.add()
    trace_id = trace_id or uuid.uuid4().bytes
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


def cpu_seconds(pid: int) -> float:
    """User + system CPU of a process so far, all its threads (the server's: its event loop, chDB's insert
    and merge threads), from /proc. Per event it is a steadier figure than throughput on a shared machine."""
    fields = open(f"/proc/{pid}/stat").read().rpartition(")")[2].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


# chDB's thread names for what they do
_CHDB_THREADS = {"ThreadPool": "chDB insert pipeline", "MergeMutate": "merges"}


def thread_cpu_seconds(pid: int) -> dict[str, float]:
    """CPU seconds so far of each kind of thread of a process, from /proc: the main thread (the server's event
    loop), Python's worker threads (which keep the process's name: Arrow columns, chDB's insert called from
    them), and chDB's threads by what their names say. Threads that ended are gone from /proc: the figures
    are of the threads alive at both reads."""
    def stat(tid: str) -> tuple[str, float]:
        text = open(f"/proc/{pid}/task/{tid}/stat").read()
        fields = text.rpartition(")")[2].split()
        seconds = (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
        return text[text.index("(") + 1 : text.rindex(")")], seconds

    main_name, main_seconds = stat(str(pid))
    out = {"event loop": main_seconds}
    for task in os.scandir(f"/proc/{pid}/task"):
        if task.name == str(pid):
            continue
        try:
            name, seconds = stat(task.name)
        except OSError:
            continue
        kind = "Python workers" if name == main_name else _CHDB_THREADS.get(name, f"chDB {name}")
        out[kind] = out.get(kind, 0.0) + seconds
    return out


async def live_seconds(url: str) -> tuple[float, float]:
    """(group commit seconds, live publish seconds) so far, from the server's /metrics (0, 0 if absent)."""
    async with httpx.AsyncClient(base_url=url, headers={"Authorization": f"Bearer {METRICS_TOKEN}"}) as client:
        text = (await client.get("/metrics")).text
    values = {}
    for line in text.splitlines():
        name, _, value = line.rpartition(" ")
        if name in ("tracehouse_group_commit_seconds_total", "tracehouse_live_publish_seconds_total"):
            values[name] = float(value)
    return values.get("tracehouse_group_commit_seconds_total", 0.0), values.get(
        "tracehouse_live_publish_seconds_total", 0.0
    )


async def otlp_queryable(url: str) -> list[float]:
    """Seconds from the start of one 10,000-span OTLP POST until a query finds all its spans."""
    times = []
    for _ in range(BIG_EXPORT_RUNS):
        trace_id = uuid.uuid4().bytes
        body = otlp_request(BIG_EXPORT, trace_id)
        query = orjson.dumps({"query": SPAN_COUNT, "variables": {"id": trace_id.hex()}})
        start = time.perf_counter()
        await post_all(url, "/v1/traces", BENCH_KEY, [body], 1, content_type="application/x-protobuf")
        while True:
            async with httpx.AsyncClient(base_url=url, headers={"X-API-Key": BENCH_KEY}) as client:
                answer = (await client.post("/graphql", content=query, headers={"Content-Type": "application/json"}))
            execution = answer.json()["data"]["execution"]
            if execution is not None and execution["spanCount"] == BIG_EXPORT:
                break
            if time.perf_counter() - start > 60:
                raise RuntimeError(f"the export did not become queryable: {answer.text[:300]}")
        times.append(time.perf_counter() - start)
    return times


async def watched_rest_bulk(url: str) -> tuple[float, float]:
    """REST bulk while one subscription watches the tenant: (events/s, live share of commit time)."""
    from tests.ws_client import GraphQLWS

    ws = GraphQLWS(url)
    await ws.connect({"apiKey": BENCH_KEY})
    await ws.subscribe('subscription { events(filter: {names: ["bench.never"]}) { name } }')
    await asyncio.sleep(1.0)  # the subscription's watch marker is committed
    bodies = [orjson.dumps(vellum_events(BULK)) for _ in range(LIVE_REQUESTS)]
    commit_before, live_before = await live_seconds(url)
    start = time.perf_counter()
    await post_all(url, "/monitoring/v1/events", BENCH_KEY, bodies, 4)
    rate = BULK * LIVE_REQUESTS / (time.perf_counter() - start)
    commit_after, live_after = await live_seconds(url)
    await ws.close()
    return rate, (live_after - live_before) / max(commit_after - commit_before, 1e-9)


async def run_server_workloads(url: str, pid: int) -> dict[str, tuple[float, list[float]]]:
    results: dict[str, tuple[float, list[float]]] = {}
    await post_all(url, "/monitoring/v1/events", BENCH_KEY, [orjson.dumps(vellum_events(BULK))], 1)  # warm-up

    bodies = [orjson.dumps(vellum_events(BULK)) for _ in range(BULK_REQUESTS)]
    commit_before, live_before = await live_seconds(url)
    threads_before, cpu_before, start = thread_cpu_seconds(pid), cpu_seconds(pid), time.perf_counter()
    lat = await post_all(url, "/monitoring/v1/events", BENCH_KEY, bodies, 4)
    elapsed = time.perf_counter() - start
    results["rest_bulk"] = (BULK * BULK_REQUESTS / elapsed, lat)
    results["rest_bulk_cpu"] = ((cpu_seconds(pid) - cpu_before) / (BULK * BULK_REQUESTS), [])
    results["rest_bulk_cores"] = (results["rest_bulk_cpu"][0] * BULK * BULK_REQUESTS / elapsed, [])
    threads_after = thread_cpu_seconds(pid)
    for name, seconds in threads_after.items():
        if seconds - threads_before.get(name, 0.0) >= 0.01:
            results[f"rest_bulk_cpu:{name}"] = ((seconds - threads_before.get(name, 0.0)) / (BULK * BULK_REQUESTS), [])
    commit_after, live_after = await live_seconds(url)
    results["live_share_unwatched"] = ((live_after - live_before) / max(commit_after - commit_before, 1e-9), [])

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

    results["otlp_queryable"] = (0.0, await otlp_queryable(url))
    rate, share = await watched_rest_bulk(url)  # last: once watched, a tenant stays so for the retention window
    results["rest_bulk_watched"] = (rate, [])
    results["live_share_watched"] = (share, [])
    return results


def raw_insert_rate(batch_size: int, batches: int) -> float:
    """The floor: clickhouse-connect inserting the same canonical rows straight into chDB."""
    with tempfile.TemporaryDirectory(prefix="tracehouse-raw-") as d:
        dsn = f"chdb://{d}/clickhouse"
        ch = ChdbClickHouse(dsn, 1)
        asyncio.run(migrate(ch))
        client = clickhouse_connect.get_client(dsn=dsn)
        rows_batches = [
            list(zip(*event_columns([("tenant", vellum.adapt(vellum_events(batch_size)).events)]), strict=True))
            for _ in range(batches)
        ]
        start = time.perf_counter()
        for rows in rows_batches:
            client.insert("events", rows, column_names=list(EVENT_COLUMNS))
        elapsed = time.perf_counter() - start
        client.close()
        asyncio.run(ch.close())
    return batch_size * batches / elapsed


def raw_column_insert_rate(batch_size: int, batches: int) -> tuple[float, float]:
    """The store alone through the server's own insert path (ingest/writer.py: columns as one Arrow stream, the
    group commit's insert settings), one insert at a time: (rows/s, CPU µs a row, merges included as they run)."""
    with tempfile.TemporaryDirectory(prefix="tracehouse-raw-") as d:
        ch = ChdbClickHouse(f"chdb://{d}/clickhouse", 1)
        asyncio.run(migrate(ch))
        columns = [event_columns([("tenant", vellum.adapt(vellum_events(batch_size)).events)]) for _ in range(batches)]

        async def insert_all() -> None:
            for data in columns:
                await insert_events(ch, data, EVENT_COLUMNS)

        cpu, start = time.process_time(), time.perf_counter()
        asyncio.run(insert_all())
        elapsed, cpu = time.perf_counter() - start, time.process_time() - cpu
        asyncio.run(ch.close())
    return batch_size * batches / elapsed, cpu * 1e6 / (batch_size * batches)


def main() -> None:
    # The server first, and its store deleted last: each store deleted is thousands of part files, and on ext4
    # files created in the next minutes cost several times the CPU (storage/clickhouse/migrations.py, 11). The raw
    # baselines run before the server took REST bulk from ~60,000 to ~45,000 events/s, measuring the bench.
    with server({"TRACEHOUSE_METRICS_TOKEN": METRICS_TOKEN}) as proc:
        assert proc.proc is not None
        results = asyncio.run(run_server_workloads(proc.url, proc.proc.pid))
        proc.stop()
        raw_bulk = raw_insert_rate(BULK, BULK_REQUESTS)
        raw_columns = {size: raw_column_insert_rate(size, BULK * BULK_REQUESTS // size) for size in (BULK, 2 * BULK)}
        raw_single = raw_insert_rate(1, 500)
    rows: list[list[object]] = []
    for name, label, unit, raw in (
        ("rest_bulk", "REST /monitoring/v1/events, 1,000/request, 4 concurrent", "events/s", raw_bulk),
        ("graphql_bulk", "GraphQL ingestEvents, 1,000/request, 4 concurrent", "events/s", raw_bulk),
        ("otlp", "OTLP/HTTP protobuf, 512 spans/request, 4 concurrent", "spans/s", raw_bulk),
        ("rest_single", f"REST single event, concurrency {CONCURRENCY}", "req/s", raw_single),
    ):
        rate, lat = results[name]
        goal = f">= {GOALS[name]:,} {unit}" if name in GOALS else "-"
        rows.append([label, f"{rate:,.0f} {unit}", goal, f"{median(lat) * 1000:.1f}",
                     f"{percentile(lat, 99) * 1000:.1f}", f"{raw:,.0f} rows/s", f"{raw / rate:.1f}x"])  # fmt: skip
    table(
        "Ingest (one server process, embedded chDB + Postgres)",
        ["workload", "throughput", "goal", "p50 ms", "p99 ms", "raw insert of same rows", "raw/server"],
        rows,
    )
    queryable = results["otlp_queryable"][1]
    per_thread: list[list[object]] = [
        [f"  of which {name.partition(':')[2]}", f"{value * 1e6:.1f} µs", "-"]
        for name, (value, _) in sorted(results.items(), key=lambda item: -item[1][0])
        if name.startswith("rest_bulk_cpu:")
    ]
    # fmt: off
    table(
        "Ingest latency and the live bus",
        ["figure", "measured", "goal"],
        [
            ["server CPU per event, REST bulk (all its threads, while the requests ran)",
             f"{results['rest_bulk_cpu'][0] * 1e6:.1f} µs ({results['rest_bulk_cores'][0]:.2f} of the cores busy)",
             "-"],
            *per_thread,
            *[[f"the same rows straight into chDB through the server's insert path, {size:,} an insert",
               f"{rate:,.0f} rows/s, {cpu:.1f} µs CPU a row", "-"] for size, (rate, cpu) in raw_columns.items()],
            [f"{BIG_EXPORT:,} OTLP spans in one request, POST start to queryable (median of {BIG_EXPORT_RUNS})",
             f"{median(queryable):.2f} s (min {min(queryable):.2f})", f"<= {GOALS['otlp_queryable']} s"],
            ["live bus share of group-commit time, REST bulk, no subscriber",
             f"{results['live_share_unwatched'][0]:.1%}", "~0 (no message without a possible reader)"],
            [f"live bus share of group-commit time, REST bulk ({LIVE_REQUESTS} requests), one subscriber",
             f"{results['live_share_watched'][0]:.1%} ({results['rest_bulk_watched'][0]:,.0f} events/s)",
             "one message per group commit"],
        ],
    )
    # fmt: on


if __name__ == "__main__":
    main()
