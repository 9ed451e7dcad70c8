"""Deletes: what the ClickHouse part of a deletion costs on a tenant of 1,000,000 events (50,000 executions of
20 span events), as storage/clickhouse/deletes.py runs it (lightweight DELETE, waiting for it), with reads
after each delete to show the rows are gone at once.

Events are generated inside ClickHouse (INSERT … SELECT from numbers()) into a fresh chDB; the materialized
view fills `spans` from the same insert, as ingest does. Every 100th execution's events have actor
`user:u-7`. Run: `.venv/bin/python -m bench.deletes`. Prints a markdown table.
"""

from __future__ import annotations

import asyncio
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

from bench.common import table
from storage.clickhouse import deletes
from storage.clickhouse.client import ChdbClickHouse
from storage.clickhouse.deletes import EventSelection
from storage.clickhouse.executions import ExecutionQuery
from storage.clickhouse.migrations import migrate

TENANT = "t-1m"
EVENTS = 1_000_000


async def load(ch: ChdbClickHouse) -> None:
    await ch.command(
        "INSERT INTO events (tenant_id, id, name, timestamp, source, execution_id, span_id, actor_type, actor_id, "
        "is_span, span_name, span_status, start_time, end_time, payload) "
        "SELECT {tenant:String}, concat('e', toString(number)), 'span.logged', "
        "toDateTime64('2026-01-01 00:00:00', 6, 'UTC') + toIntervalSecond(number), 'bench', "
        "concat('ex-', toString(intDiv(number, 20))), concat('s', toString(number % 20)), "
        "if(intDiv(number, 20) % 100 = 7, 'user', ''), if(intDiv(number, 20) % 100 = 7, 'u-7', ''), 1, "
        "if(number % 20 = 0, 'workflow', 'step'), 'SUCCEEDED', "
        "toDateTime64('2026-01-01 00:00:00', 6, 'UTC') + toIntervalSecond(number), "
        "toDateTime64('2026-01-01 00:00:01', 6, 'UTC') + toIntervalSecond(number), '{}' "
        "FROM numbers({n:UInt64})",
        {"tenant": TENANT, "n": EVENTS},
    )


async def timed(fn: Callable[[], Awaitable[object]]) -> float:
    started = time.perf_counter()
    await fn()
    return (time.perf_counter() - started) * 1000


async def main() -> None:
    with tempfile.TemporaryDirectory(prefix="tracehouse-bench-deletes-") as d:
        ch = ChdbClickHouse(f"chdb://{Path(d) / 'clickhouse'}", 1)
        await migrate(ch)
        load_ms = await timed(lambda: load(ch))
        rows: list[list[object]] = [["load 1,000,000 events (+ spans by the view)", load_ms, ""]]

        one = await timed(lambda: deletes.delete_executions(ch, TENANT, ["ex-123"]))
        left = await deletes.count_execution_events(ch, TENANT, ["ex-123"])
        rows.append(["deleteExecutions: 1 execution (20 events, 20 span pieces)", one, f"{left} left"])

        ids: list[str] = []
        resolve = await timed(lambda: _resolve(ch, ids))
        rows.append([f"resolve a filter: {len(ids):,} executions by actor", resolve, ""])
        batch = await timed(lambda: deletes.delete_executions(ch, TENANT, ids))
        left = await deletes.count_execution_events(ch, TENANT, ids)
        rows.append([f"delete those {len(ids):,} executions ({len(ids) * 20:,} events)", batch, f"{left} left"])

        window = EventSelection(names=("span.logged",), execution_id="ex-4000")
        by_filter = await timed(lambda: deletes.delete_events(ch, TENANT, window))
        left = await deletes.count_events(ch, TENANT, window)
        rows.append(["deleteEvents: one execution's events by filter", by_filter, f"{left} left"])

        remaining = await deletes.count_events(ch, TENANT, EventSelection())
        rows.append(["events still readable", 0.0, f"{remaining:,}"])
        await ch.close()
    table("Deletes on a tenant of 1,000,000 events (chDB, ms)", ["operation", "ms", "after"], rows)


async def _resolve(ch: ChdbClickHouse, out: list[str]) -> None:
    query = ExecutionQuery(actor_type="user", actor_id="u-7")
    out.extend(await deletes.execution_ids(ch, TENANT, query, (None, None), 1000))


if __name__ == "__main__":
    asyncio.run(main())
