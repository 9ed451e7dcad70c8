"""Event lists: keyset-paged over any filter at the root, and per parent through the loaders."""

from __future__ import annotations

from datetime import datetime

from resolvers.loaders import Loaders
from resolvers.loaders.events_by_group import EventsKey
from resolvers.paging import Page, check_first, decode_after, keyset_page, make_page
from storage.clickhouse.client import ClickHouse
from storage.clickhouse.events import EventQuery, EventRecord, count_events, grouped_events, list_events


async def events_page(
    ch: ClickHouse, tenant_id: str, query: EventQuery, first: int | None, after: str | None
) -> Page[EventRecord]:
    async def fetch(limit: int, cursor: tuple[datetime, str] | None) -> list[EventRecord]:
        return await list_events(ch, tenant_id, query, limit, cursor)

    async def count() -> int:
        return await count_events(ch, tenant_id, query)

    return await keyset_page(first, 100, after, fetch, count, lambda r: (r.timestamp, r.id))


async def nested_events_page(
    loaders: Loaders,
    ch: ClickHouse,
    tenant_id: str,
    grouping: str,
    key: tuple[str, ...],
    first: int | None,
    after: str | None,
    ascending: bool,
) -> Page[EventRecord]:
    """A parent's events (an execution's, an actor's …): batched across parents through the loaders;
    a page after a cursor is one parent paging on, so it queries directly."""
    first = check_first(first, 100)
    cursor = decode_after(after)
    if not first:
        rows: list[EventRecord] = []
    elif cursor is None:
        rows = await loaders.events_by_group.load(EventsKey(grouping, key, first + 1, ascending))
    else:
        found = await grouped_events(ch, tenant_id, grouping, [key], first + 1, ascending, cursor)
        rows = found.get(key, [])

    async def count() -> int:
        return await loaders.event_count_by_group.load((grouping, key))

    return make_page(rows, first, lambda r: (r.timestamp, r.id), count)
