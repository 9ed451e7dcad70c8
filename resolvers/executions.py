"""Root execution queries and the in-memory paging of an execution's spans."""

from __future__ import annotations

from datetime import datetime

from resolvers.paging import Page, check_first, decode_after, keyset_page, make_page
from resolvers.trace import Trace
from storage.clickhouse.client import ClickHouse
from storage.clickhouse.executions import ExecutionQuery, ExecutionRecord, count_executions, list_executions
from storage.clickhouse.spans import SpanRecord


async def executions_page(
    ch: ClickHouse, tenant_id: str, query: ExecutionQuery, first: int | None, after: str | None
) -> Page[ExecutionRecord]:
    async def fetch(limit: int, cursor: tuple[datetime, str] | None) -> list[ExecutionRecord]:
        return await list_executions(ch, tenant_id, query, limit, cursor)

    async def count() -> int:
        return await count_executions(ch, tenant_id, query)

    return await keyset_page(first, 50, after, fetch, count, lambda r: (r.start_time, r.id))


def spans_page(trace: Trace, first: int | None, after: str | None) -> Page[SpanRecord]:
    """An execution's spans in start order; the trace is already in memory, so paging costs no query."""
    first = check_first(first, 100, maximum=100_000)
    rest = trace.after(decode_after(after))
    total = len(trace.spans)

    async def count() -> int:
        return total

    return make_page(rest[: first + 1], first, lambda s: (s.start_time, s.id), count)
