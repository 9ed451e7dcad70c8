"""Event lists: keyset-paged over any filter at the root, and per parent through the loaders."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import datetime
from typing import Any

from resolvers.loaders import Loaders
from resolvers.loaders.events_by_group import EventsKey
from resolvers.paging import Order, Page, keyset_page, make_page, window
from storage.clickhouse.client import ClickHouse
from storage.clickhouse.events import EventQuery, EventRecord, count_events, grouped_events, list_events

# Sort value of each order field, read off a record; storage/clickhouse/events.ORDERS sorts by the same.
EVENT_ORDERS: dict[str, tuple[type, Callable[[EventRecord], Any]]] = {
    "TIMESTAMP": (datetime, lambda r: r.timestamp),
    "NAME": (str, lambda r: r.name),
}


def event_order(field: str = "TIMESTAMP", descending: bool = True) -> Order[EventRecord]:
    kind, value = EVENT_ORDERS[field]
    return Order(field, descending, kind, value, tie_of)


def tie_of(record: EventRecord) -> str:
    """The tie-break of an event in a list, as storage/clickhouse/events.TIE computes it."""
    return f"{record.id}\x00{record.source}"


async def events_page(
    ch: ClickHouse,
    tenant_id: str,
    query: EventQuery,
    first: int | None,
    after: str | None,
    order: Order[EventRecord] | None = None,
    last: int | None = None,
    before: str | None = None,
) -> Page[EventRecord]:
    """In the query's time direction unless another order is asked for; sorted and sliced in ClickHouse."""
    order = order or event_order(descending=not query.ascending)

    async def fetch(limit: int, cursor: tuple[Any, str] | None, descending: bool) -> list[EventRecord]:
        return await list_events(ch, tenant_id, replace(query, ascending=not descending), limit, cursor, 0, order.field)

    async def count() -> int:
        return await count_events(ch, tenant_id, query)

    return await keyset_page(window(order, first, after, last, before, 100), order, fetch, count)


async def nested_events_page(
    loaders: Loaders,
    ch: ClickHouse,
    tenant_id: str,
    grouping: str,
    key: tuple[str, ...],
    first: int | None,
    after: str | None,
    ascending: bool,
    last: int | None = None,
    before: str | None = None,
) -> Page[EventRecord]:
    """A parent's events (an execution's, an actor's …) in time order: a first page (or last) is batched
    across parents through the loaders; a page past a cursor is one parent paging on, so it queries directly."""
    order = event_order(descending=not ascending)
    win = window(order, first, after, last, before, 100)
    read_ascending = not win.descending(order)
    if not win.size:
        rows: list[EventRecord] = []
    elif win.cursor is None:
        rows = await loaders.events_by_group.load(EventsKey(grouping, key, win.size + 1, read_ascending))
    else:
        found = await grouped_events(ch, tenant_id, grouping, [key], win.size + 1, read_ascending, win.cursor)
        rows = found.get(key, [])

    async def count() -> int:
        return await loaders.event_count_by_group.load((grouping, key))

    return make_page(rows, win, order, count)
