"""Analytics and search: the `metrics` time series over 1,000,000 and 5,000,000 spans, text search over
1,000,000, and eventAggregates / actorStats over 5,000,000 events, as the storage functions behind the
GraphQL fields run them (one query each).

Spans are generated inside ClickHouse (INSERT … SELECT from numbers()) into a fresh chDB, one tenant of
1M and one of 5M spread over the same week: 20 spans an execution, ~400-character inputs and outputs, a
usage entry and USD cost on every fourth span (three models), 2% failed.
Events (audit-like, 500 actors) are read in three layouts of the same rows, because deduplication
(FINAL) costs what the parts make it cost: as inserted (five parts of ~1M), merged into one part, and merged
plus one fresh part of 1,000 events (a settled table under ingest); which exact read each layout takes (split,
once, final: storage/clickhouse/deduplicated.py) goes to stderr. Goal (issue 15): 5M events <= 300 ms p50.
Run: `make bench` (or `.venv/bin/python -m bench.analytics [events]`, `events` for the event analytics alone).
Prints markdown tables.
"""

from __future__ import annotations

import asyncio
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from bench.common import median, table
from storage.clickhouse import deduplicated
from storage.clickhouse.aggregates import actor_stats, event_aggregates
from storage.clickhouse.client import ChdbClickHouse
from storage.clickhouse.deduplicated import plan
from storage.clickhouse.executions import ExecutionQuery, list_executions
from storage.clickhouse.metrics import MetricsQuery, metrics
from storage.clickhouse.migrations import migrate
from storage.clickhouse.search import search_spans

RUNS = 5
T0 = datetime(2024, 1, 1, tzinfo=UTC)
WEEK = timedelta(days=7)
SIZES = {"t-1m": 1_000_000, "t-5m": 5_000_000}
EVENTS = 5_000_000
AGGREGATES_GOAL_MS = 300
FILLER = "lorem ipsum dolor sit amet consectetur adipiscing elit " * 7  # ~400 characters


async def load(ch: ChdbClickHouse, tenant: str, n: int) -> float:
    """`n` spans spread evenly over the week from T0, in one INSERT … SELECT; returns the seconds it took."""
    started = time.perf_counter()
    await ch.command(
        "INSERT INTO spans (tenant_id, execution_id, span_id, event_id, event_name, ts, parent_span_id, span_name, "
        "span_kind, span_status, start_time, end_time, inputs, outputs, error, usage, cost, input_tokens, "
        "output_tokens, ingested_at) "
        "SELECT {tenant:String}, concat('ex-', toString(intDiv(number, 20))), concat('s', toString(number % 20)), "
        "concat('e', toString(number)), 'span.logged', start, "
        "if(number % 20 = 0, '', concat('s', toString(intDiv(number % 20, 4) * 4))), "
        "['workflow', 'plan', 'llm.call', 'tool.search', 'answer'][number % 5 + 1], "
        "if(number % 4 = 1, 'LLM', 'CHAIN'), if(number % 50 = 7, 'FAILED', 'SUCCEEDED'), start, "
        "start + toIntervalMillisecond(20 + cityHash64(number) % 2000), "
        "concat('{\"question\": \"about topic-', toString(number % 100000), ' ', {filler:String}, '\"}'), "
        "concat('{\"answer\": \"', {filler:String}, '\"}'), "
        "if(number % 50 = 7, concat('{\"message\": \"timeout after ', toString(number % 97), ' s\"}'), ''), "
        "if(number % 4 = 1, concat('[{\"model\": \"', ['gpt-4o', 'claude-sonnet', 'gemini-pro'][number % 3 + 1], "
        '\'", "input_tokens": 120, "output_tokens": 40, "cache_creation_input_tokens": 0, '
        "\"cache_read_input_tokens\": 0}]'), ''), "
        'if(number % 4 = 1, \'[{"value": 0.0012, "unit": "USD"}]\', \'\'), '
        "if(number % 4 = 1, 120, 0), if(number % 4 = 1, 40, 0), now64(6) "
        "FROM (SELECT number, {t0:DateTime64(6, 'UTC')} + toIntervalMicrosecond(intDiv(number * {week_us:UInt64}, "
        "{n:UInt64})) AS start FROM numbers({n:UInt64}))",
        {"tenant": tenant, "n": n, "filler": FILLER, "t0": T0, "week_us": int(WEEK.total_seconds() * 1_000_000)},
    )
    return time.perf_counter() - started


async def load_events(ch: ChdbClickHouse, tenant: str, n: int, first: int = 0) -> None:
    """`n` audit-like events (as bench/trace_query.py makes them), generated inside ClickHouse."""
    await ch.command(
        "INSERT INTO events (tenant_id, id, name, timestamp, source, actor_type, actor_id, resource_type, "
        "resource_id, correlation_id, outcome, payload, is_span) "
        "SELECT {tenant:String}, toString(generateUUIDv4()), "
        "['schedule.fired', 'automation_run.completed', 'automation_run.failed', 'artifact.created'][number % 4 + 1], "
        "{t0:DateTime64(6, 'UTC')} + toIntervalMillisecond(number), 'audit', "
        "['user', 'agent', 'schedule', 'service'][number % 4 + 1], concat('actor-', toString(number % 500)), "
        "['action_run', 'automation', 'artifact'][number % 3 + 1], concat('res-', toString(number % 10000)), "
        "concat('corr-', toString(number % 50000)), ['', 'success', 'failure', ''][number % 4 + 1], '{}', 0 "
        "FROM numbers({first:UInt64}, {n:UInt64})",
        {"tenant": tenant, "n": n, "first": first, "t0": T0},
    )


async def aggregate_rows(ch: ChdbClickHouse) -> list[list[object]]:
    """eventAggregates and actorStats over 5M events, in the three layouts of parts: a row of wall-clock p50s
    per query, then one of CPU p50s (chDB runs in this process, so its CPU time is ours: a figure that the
    other processes on a shared machine distort less than wall time)."""
    tenant = "t-events"
    started = time.perf_counter()
    await load_events(ch, tenant, EVENTS)
    print(f"loaded {EVENTS:,} events in {time.perf_counter() - started:.0f} s", file=sys.stderr)
    queries: list[tuple[str, Callable[[], Awaitable[Any]]]] = [
        ("eventAggregates over 5M events", lambda: event_aggregates(ch, tenant, None, None)),
        ("actorStats over 5M events (500 actors)", lambda: actor_stats(ch, tenant, None, None)),
    ]
    figures: dict[str, list[float]] = {label: [] for label, _ in queries}
    cpu: dict[str, list[float]] = {label: [] for label, _ in queries}
    # The first read after the parts changed finds the key hashes seen twice; a read again keeps them.
    first: dict[str, list[float]] = {label: [] for label, _ in queries}
    for layout in ("as inserted", "merged", "merged + fresh part"):
        if layout == "merged":
            await ch.command("OPTIMIZE TABLE events FINAL")
        elif layout == "merged + fresh part":
            await load_events(ch, tenant, 1_000, first=EVENTS)
        parts = (await ch.query("SELECT count() FROM system.parts WHERE table = 'events' AND active")).rows[0][0]
        print(f"events: {layout}, {parts} parts, read: {(await plan(ch)).read}", file=sys.stderr)
        for label, fn in queries:
            figures[label].append(await p50(fn, cpu[label]))
            first[label].append(await p50(fn, before=lambda: deduplicated.forget(ch)))
    return (
        [[label, *values, f"<= {AGGREGATES_GOAL_MS}"] for label, values in figures.items()]
        + [[f"{label}, CPU ms", *values, "-"] for label, values in cpu.items()]
        + [[f"{label}, first read after the parts changed", *values, "-"] for label, values in first.items()]
    )


async def p50(
    fn: Callable[[], Awaitable[Any]], cpu: list[float] | None = None, before: Callable[[], None] | None = None
) -> float:
    """The median wall time of RUNS calls in ms (and, into `cpu`, the median CPU time of this process);
    `before` runs untimed before each call."""
    await fn()  # warm: the first read after a load pays for caches
    times, cpu_times = [], []
    for _ in range(RUNS):
        if before is not None:
            before()
        started, started_cpu = time.perf_counter(), time.process_time()
        await fn()
        times.append((time.perf_counter() - started) * 1000)
        cpu_times.append((time.process_time() - started_cpu) * 1000)
    if cpu is not None:
        cpu.append(median(cpu_times))
    return median(times)


def print_aggregates(aggregates: list[list[object]]) -> None:
    table(
        f"Event analytics (p50 ms of {RUNS} runs; one tenant of {EVENTS:,} events)",
        ["query", "as inserted (5 parts)", "merged (1 part)", "merged + fresh 1,000-event part", "goal"],
        aggregates,
    )


async def events_only() -> None:
    with tempfile.TemporaryDirectory(prefix="tracehouse-bench-analytics-") as d:
        ch = ChdbClickHouse(f"chdb://{Path(d) / 'clickhouse'}", pool_size=1)
        await migrate(ch)
        aggregates = await aggregate_rows(ch)
        await ch.close()
    print_aggregates(aggregates)


async def main() -> None:
    if sys.argv[1:] == ["events"]:  # only the event analytics (the span loads take minutes)
        await events_only()
        return
    with tempfile.TemporaryDirectory(prefix="tracehouse-bench-analytics-") as d:
        ch = ChdbClickHouse(f"chdb://{Path(d) / 'clickhouse'}", pool_size=1)
        await migrate(ch)
        loads = {tenant: await load(ch, tenant, n) for tenant, n in SIZES.items()}
        print(f"loaded: {loads}", file=sys.stderr)
        await ch.command("OPTIMIZE TABLE spans FINAL")  # measured on merged parts, as a table settles to
        rows: list[list[object]] = []
        day = (T0 + timedelta(days=3), T0 + timedelta(days=4))
        week = (T0, T0 + WEEK)
        cases: list[tuple[str, MetricsQuery]] = [
            ("metrics: HOUR over a day, ungrouped", MetricsQuery(*day, 3600)),
            ("metrics: HOUR over a day, by model", MetricsQuery(*day, 3600, group_by="model")),
            ("metrics: HOUR over a week, ungrouped", MetricsQuery(*week, 3600)),
            ("metrics: HOUR over a week, by name", MetricsQuery(*week, 3600, group_by="name")),
            ("metrics: HOUR over a day, executions by status", MetricsQuery(*day, 3600, "executions", "status")),
        ]
        for label, q in cases:
            figures = [await p50(lambda t=tenant, q=q: metrics(ch, t, q)) for tenant in SIZES]
            rows.append([label, *figures])
            print(rows[-1], file=sys.stderr)
        rare = "TOPIC-4242 "  # 10 spans of the 1M (case differs from the stored text)
        searches: list[tuple[str, Callable[[str], Awaitable[Any]]]] = [
            ("searchSpans: rare text, first 50", lambda t: search_spans(ch, t, rare, 51, None)),
            ("searchSpans: common text, first 50", lambda t: search_spans(ch, t, "timeout after 42", 51, None)),
            (
                "executions(filter: {search}): rare text, first 50",
                lambda t: list_executions(ch, t, ExecutionQuery(search=rare), 51, None),
            ),
        ]
        for label, fn in searches:
            rows.append([label, await p50(lambda fn=fn: fn("t-1m")), "-"])
        aggregates = await aggregate_rows(ch)
        await ch.close()
    table(
        f"Analytics (p50 ms of {RUNS} runs; load: 1M spans {loads['t-1m']:.0f} s, 5M {loads['t-5m']:.0f} s)",
        ["query", "1M spans", "5M spans"],
        rows,
    )
    print_aggregates(aggregates)


if __name__ == "__main__":
    asyncio.run(main())
