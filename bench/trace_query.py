"""Trace and analytics queries: a 10,000-span execution fetched flat and nested, and eventAggregates /
actorStats over 1,000,000 events, each beside its floor (the same rows by one raw ClickHouse query plus
orjson.dumps in the same process); then big traces beside their goals (bench/big_trace.py).

The server runs in this process on embedded stores (uvicorn), the client in a subprocess.
Run: `make bench` (or `.venv/bin/python -m bench.trace_query`). Prints a markdown table.
`.venv/bin/python -m bench.trace_query big` runs the big-trace figures alone (no 10k trace, no 1M events).
"""

from __future__ import annotations

import asyncio
import os
import random
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import orjson
import uvicorn

from bench import big_trace
from bench.common import BENCH_KEY, median, percentile, table
from server.app import create_app
from server.settings import Settings
from server.state import AppState
from storage.clickhouse.aggregates import actor_stats, event_aggregates
from storage.clickhouse.spans import MERGED_COLUMNS
from tests.process import free_port

SPANS = 10_000
EVENTS = 1_000_000
RUNS = 15
TEXT = "lorem ipsum dolor sit amet " * 11  # ~300 characters
T0 = datetime(2024, 1, 1, tzinfo=UTC)

FLAT = """query($id: ID!) { execution(id: $id) { spans(first: 10000) { edges { node {
  id parentId name kind status startTime endTime inputs outputs usage { totalTokens } } } } } }"""
NESTED = """query($id: ID!) { execution(id: $id) { rootSpans { id name status children { id name status
  children { id name status children { id name status } } } } } }"""
AGGREGATES = """{ eventAggregates { total byEventType { key count } byActorType { key count }
  byResourceType { key count } } }"""
ACTOR_STATS = "{ actorStats { actorType actorId successes failures total } }"


def trace_spans(execution_id: str) -> list[dict[str, Any]]:
    """10,000 spans: each span's parent is a random earlier span less than 8 levels deep."""
    rng = random.Random(7)
    spans: list[dict[str, Any]] = []
    depth: dict[str, int] = {}
    for i in range(SPANS):
        parent = None
        if i:
            candidate = f"s{rng.randrange(i)}"
            while depth[candidate] >= 7:
                candidate = f"s{rng.randrange(int(candidate[1:]) + 1)}"
            parent = candidate
        depth[f"s{i}"] = 0 if parent is None else depth[parent] + 1
        start = T0 + timedelta(milliseconds=i)
        span = {"id": f"s{i}", "executionId": execution_id, "parentId": parent, "name": f"step-{i}",
                "kind": "llm" if i % 4 == 1 else "chain", "startTime": start.isoformat(),
                "endTime": (start + timedelta(milliseconds=50)).isoformat(),
                "inputs": {"text": TEXT}, "outputs": {"text": TEXT}}  # fmt: skip
        if i % 4 == 1:
            span["usage"] = {"model": "gpt-4o", "inputTokens": 120, "outputTokens": 40}
        spans.append(span)
    return spans


async def generate_events(state: AppState, tenant_id: str) -> None:
    """1,000,000 audit-like events generated inside ClickHouse in one statement."""
    await state.ch.command(
        "INSERT INTO events (tenant_id, id, name, timestamp, source, actor_type, actor_id, resource_type, "
        "resource_id, correlation_id, outcome, payload, is_span) "
        "SELECT {tenant:String}, toString(generateUUIDv4()), "
        "['schedule.fired', 'automation_run.completed', 'automation_run.failed', 'artifact.created'][number % 4 + 1], "
        "toDateTime64('2024-01-01 00:00:00', 6, 'UTC') + toIntervalMillisecond(number), 'audit', "
        "['user', 'agent', 'schedule', 'service'][number % 4 + 1], concat('actor-', toString(number % 500)), "
        "['action_run', 'automation', 'artifact'][number % 3 + 1], concat('res-', toString(number % 10000)), "
        "concat('corr-', toString(number % 50000)), ['', 'success', 'failure', ''][number % 4 + 1], '{}', 0 "
        "FROM numbers({n:UInt64})",
        {"tenant": tenant_id, "n": EVENTS},
    )


async def client(
    url: str, query: str, variables: dict[str, Any], runs: int = RUNS, paged: bool = False
) -> dict[str, Any]:
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bench.query_client", url, BENCH_KEY, str(runs), query, orjson.dumps(variables).decode(),
        *(["paged"] if paged else []),
        stdout=asyncio.subprocess.PIPE, env={**os.environ, "PYTHONPATH": str(Path(__file__).parent.parent)},
    )  # fmt: skip
    out, _ = await proc.communicate()
    if proc.returncode:
        raise RuntimeError("query client failed")
    return orjson.loads(out)


async def floor_ms(state: AppState, fn: Any) -> float:
    times = []
    for _ in range(RUNS):
        start = time.perf_counter()
        await fn()
        times.append(time.perf_counter() - start)
    return median(times) * 1000


async def main(big_only: bool = False) -> None:
    with tempfile.TemporaryDirectory(prefix="tracehouse-bench-") as d:
        port = free_port()
        settings = Settings(data_dir=Path(d), clickhouse_url=f"chdb://{d}/clickhouse", bootstrap_api_key=BENCH_KEY,
                            port=port, max_batch_items=SPANS)  # fmt: skip
        app = create_app(settings)
        server = uvicorn.Server(uvicorn.Config(app, port=port, log_level="warning", access_log=False))
        task = asyncio.create_task(server.serve())
        while not server.started:  # noqa: ASYNC110 - uvicorn offers no started event
            await asyncio.sleep(0.1)
        state: AppState = app.state.tracehouse
        tenant_id = await state.pg.fetchval("SELECT id FROM tenants WHERE name = 'default'")
        url = f"http://127.0.0.1:{port}"
        log = "mutation($s: [SpanInput!]!) { logSpans(spans: $s) { count } }"
        await big_trace.load(state.ch, tenant_id)
        if big_only:
            await big_trace.measure(lambda q, v, runs, paged: client(url, q, v, runs, paged))
            server.should_exit = True
            await task
            return
        spans = trace_spans("big")
        for i in range(0, SPANS, 2_000):
            await client_once(url, log, {"s": spans[i : i + 2_000]})
        await generate_events(state, tenant_id)

        rows: list[list[object]] = []

        async def raw_trace() -> None:
            result = await state.ch.query(
                f"SELECT {MERGED_COLUMNS} FROM spans FINAL WHERE tenant_id = {{tenant:String}} "
                "AND execution_id = {id:String} GROUP BY execution_id, span_id ORDER BY start, span_id",
                {"tenant": tenant_id, "id": "big"},
            )
            orjson.dumps(result.dicts(), option=orjson.OPT_NAIVE_UTC)

        async def raw_aggregates() -> None:
            orjson.dumps(await event_aggregates(state.ch, tenant_id, None, None), default=vars)

        async def raw_actor_stats() -> None:
            orjson.dumps(await actor_stats(state.ch, tenant_id, None, None), default=lambda r: list(r.__slots__))

        for label, query, floor in (
            ("10k-span trace, flat (spans first: 10000)", FLAT, raw_trace),
            ("10k-span trace, nested 3 levels of children", NESTED, raw_trace),
            ("eventAggregates over 1M events", AGGREGATES, raw_aggregates),
            ("actorStats over 1M events (500 actors)", ACTOR_STATS, raw_actor_stats),
        ):
            measured = await client(url, query, {"id": "big"} if "$id" in query else {})
            lat = measured["latencies"]
            floor_p50 = await floor_ms(state, floor)
            p50 = median(lat) * 1000
            rows.append([label, f"{p50:.0f}", f"{percentile(lat, 90) * 1000:.0f}", f"{measured['bytes']:,}",
                         f"{floor_p50:.0f}", f"{p50 / floor_p50:.1f}x"])  # fmt: skip
        await big_trace.measure(lambda q, v, runs, paged: client(url, q, v, runs, paged))
        server.should_exit = True
        await task
    table(
        f"Trace and analytics queries ({RUNS} runs each; server in-process on embedded stores)",
        ["query", "p50 ms", "p90 ms", "response bytes", "floor p50 ms", "p50/floor"],
        rows,
    )


async def client_once(url: str, query: str, variables: dict[str, Any]) -> None:
    from bench.loadgen import post_all

    await post_all(url, "/graphql", BENCH_KEY, [orjson.dumps({"query": query, "variables": variables})], 1, True)


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1:] == ["big"]))
