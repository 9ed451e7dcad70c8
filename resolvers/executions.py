"""Root execution queries and the paging of an execution's spans, in any of their orders."""

from __future__ import annotations

import bisect
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from typing import Any

from resolvers.loaders.span_page_by_execution import SpanPageByExecutionLoader, SpanPageKey
from resolvers.paging import Order, Page, keyset_page, make_page, window
from resolvers.trace import Trace
from storage.clickhouse.client import ClickHouse
from storage.clickhouse.executions import ExecutionQuery, ExecutionRecord, count_executions, list_executions
from storage.clickhouse.spans import SpanRecord, SpanWindow

_MICROSECOND = timedelta(microseconds=1)


def duration_us(start: datetime, end: datetime | None) -> int:
    """The DURATION sort value: microseconds, -1 while running (the same value storage computes in SQL)."""
    return -1 if end is None else (end - start) // _MICROSECOND


# Sort value of each order field, read off a record; storage/clickhouse/executions.ORDERS sorts by the same.
EXECUTION_ORDERS: dict[str, tuple[type, Callable[[ExecutionRecord], Any]]] = {
    "START_TIME": (datetime, lambda r: r.start_time),
    "DURATION": (int, lambda r: duration_us(r.start_time, r.end_time)),
    "NAME": (str, lambda r: r.name),
    "SPAN_COUNT": (int, lambda r: r.span_count),
    "TOKENS": (int, lambda r: r.total_tokens),
}
SPAN_ORDERS: dict[str, tuple[type, Callable[[SpanRecord], Any]]] = {
    "START_TIME": (datetime, lambda s: s.start_time),
    "DURATION": (int, lambda s: duration_us(s.start_time, s.end_time)),
    "NAME": (str, lambda s: s.name),
    "TOKENS": (int, lambda s: s.input_tokens + s.output_tokens),
}


def execution_order(field: str = "START_TIME", descending: bool = True) -> Order[ExecutionRecord]:
    kind, value = EXECUTION_ORDERS[field]
    return Order(field, descending, kind, value)


def span_order(field: str = "START_TIME", descending: bool = False) -> Order[SpanRecord]:
    kind, value = SPAN_ORDERS[field]
    return Order(field, descending, kind, value)


async def executions_page(
    ch: ClickHouse,
    tenant_id: str,
    query: ExecutionQuery,
    first: int | None,
    after: str | None,
    order: Order[ExecutionRecord] | None = None,
    last: int | None = None,
    before: str | None = None,
) -> Page[ExecutionRecord]:
    """Newest first unless another order is asked for; sorted and sliced in ClickHouse."""
    order = order or execution_order()

    async def fetch(limit: int, cursor: tuple[Any, str] | None, descending: bool) -> list[ExecutionRecord]:
        return await list_executions(ch, tenant_id, query, limit, cursor, order.field, descending)

    async def count() -> int:
        return await count_executions(ch, tenant_id, query)

    return await keyset_page(window(order, first, after, last, before, 50), order, fetch, count)


def spans_page(
    trace: Trace,
    first: int | None,
    after: str | None,
    order: Order[SpanRecord] | None = None,
    last: int | None = None,
    before: str | None = None,
) -> Page[SpanRecord]:
    """An execution's spans, in start order unless asked otherwise. The request already read the whole
    trace (one query, shared with parents, children and the tree), so it is sorted and sliced here at
    no query at all; the sort value and tie-break by id are the ones a cursor records."""
    order = order or span_order()
    win = window(order, first, after, last, before, 100, maximum=100_000)
    descending = win.descending(order)
    if order.field == "START_TIME" and not descending:
        ordered = trace.spans  # the order the trace was read in
    else:
        ordered = sorted(trace.spans, key=lambda s: (order.value(s), s.id), reverse=descending)
    if win.cursor is not None:
        mark, key = win.cursor, order.key
        if descending:
            ordered = [s for s in ordered if key(s)[1:] < mark]
        else:
            ordered = ordered[bisect.bisect_right(ordered, mark, key=lambda s: key(s)[1:]) :]
    total = len(trace.spans)

    async def count() -> int:
        return total

    return make_page(ordered[: win.size + 1], win, order, count)


async def stored_spans_page(
    loader: SpanPageByExecutionLoader,
    execution_id: str,
    details: frozenset[str],
    count: Callable[[], Awaitable[int]],
    first: int | None,
    after: str | None,
    last: int | None = None,
    before: str | None = None,
    descending: bool = False,
) -> Page[SpanRecord]:
    """A page of an execution's spans in start order (or reversed) read by itself: the keyset and LIMIT in
    SQL, only the `details` columns; the same cursors and bounds as spans_page."""
    order = span_order("START_TIME", descending)
    win = window(order, first, after, last, before, 100, maximum=100_000)
    rows: list[SpanRecord] = []
    if win.size:
        rows = await loader.load(SpanPageKey(execution_id, SpanWindow(win.size + 1, win.cursor, win.descending(order)),
                                             details))  # fmt: skip
    return make_page(rows, win, order, count)
