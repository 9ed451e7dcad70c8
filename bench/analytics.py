"""Analytics and search: the `metrics` time series over 1,000,000 and 5,000,000 spans and text search over
1,000,000, as the storage functions behind the GraphQL fields run them (one query each).

Spans are generated inside ClickHouse (INSERT … SELECT from numbers()) into a fresh chDB, one tenant of
1M and one of 5M spread over the same week: 20 spans an execution, ~400-character inputs and outputs, a
usage entry and USD cost on every fourth span (three models), 2% failed.
Run: `make bench` (or `.venv/bin/python -m bench.analytics`). Prints a markdown table.
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
from storage.clickhouse.client import ChdbClickHouse
from storage.clickhouse.executions import ExecutionQuery, list_executions
from storage.clickhouse.metrics import MetricsQuery, metrics
from storage.clickhouse.migrations import migrate
from storage.clickhouse.search import search_spans

RUNS = 5
T0 = datetime(2024, 1, 1, tzinfo=UTC)
WEEK = timedelta(days=7)
SIZES = {"t-1m": 1_000_000, "t-5m": 5_000_000}
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


async def p50(fn: Callable[[], Awaitable[Any]]) -> float:
    await fn()  # warm: the first read after a load pays for caches
    times = []
    for _ in range(RUNS):
        started = time.perf_counter()
        await fn()
        times.append((time.perf_counter() - started) * 1000)
    return median(times)


async def main() -> None:
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
        await ch.close()
    table(
        f"Analytics (p50 ms of {RUNS} runs; load: 1M spans {loads['t-1m']:.0f} s, 5M {loads['t-5m']:.0f} s)",
        ["query", "1M spans", "5M spans"],
        rows,
    )


if __name__ == "__main__":
    asyncio.run(main())
