"""The `searchSpans` root field: matching spans across the tenant's executions, newest first, keyset-paged;
each comes with its whole trace (one batched load for the page) so parent and children resolve."""

from __future__ import annotations

from datetime import datetime

from resolvers import cursors
from resolvers.errors import bad_input
from resolvers.loaders import Loaders
from resolvers.paging import Page, check_first
from resolvers.trace import Trace
from storage.clickhouse.client import ClickHouse
from storage.clickhouse.search import count_spans, search_spans
from storage.clickhouse.spans import SpanRecord


def _after(after: str | None) -> tuple[datetime, str, str] | None:
    """The (start, execution id, span id) keyset an `after` cursor of this list names."""
    if after is None:
        return None
    try:
        start, execution_id, span_id = cursors.decode(after, (datetime, str, str))
    except cursors.InvalidCursor as exc:
        raise bad_input(str(exc), "after") from None
    return start, execution_id, span_id


async def search_spans_page(
    ch: ClickHouse, loaders: Loaders, tenant_id: str, search: str, first: int | None, after: str | None
) -> tuple[Page[SpanRecord], dict[str, Trace]]:
    first = check_first(first, 50)
    cursor = _after(after)
    rows = await search_spans(ch, tenant_id, search, first + 1, cursor) if first else []

    async def count() -> int:
        return await count_spans(ch, tenant_id, search)

    key = lambda s: (s.start_time, s.execution_id, s.id)  # noqa: E731
    page = Page(list(rows[:first]), key, len(rows) > first, count, has_previous=cursor is not None)
    ids = sorted({s.execution_id for s in page.items})
    traces = dict(zip(ids, await loaders.trace_by_execution.load_many(ids), strict=True))
    # The page's records, as their traces hold them, so parent and children are the same objects.
    page.items = [traces[s.execution_id].by_id.get(s.id, s) for s in page.items]
    return page, traces
