"""Root event queries: one by id, and keyset-paged lists over any filter."""

from __future__ import annotations

from datetime import datetime

from resolvers.paging import Page, check_first, decode_after, make_page
from storage.clickhouse.client import ClickHouse
from storage.clickhouse.events import EventQuery, EventRecord, count_events, list_events


async def events_page(
    ch: ClickHouse, tenant_id: str, query: EventQuery, first: int | None, after: str | None
) -> Page[EventRecord]:
    first = check_first(first, 100)
    key = decode_after(after, (datetime, str))
    rows = await list_events(ch, tenant_id, query, first + 1, key) if first else []  # type: ignore[arg-type]

    async def count() -> int:
        return await count_events(ch, tenant_id, query)

    return make_page(rows, first, lambda r: (r.timestamp, r.id), count)
