"""The reads of the REST compatibility views (the audit API, Vellum's execution detail): the other view of
the same model as GraphQL, beside graph/, through the same storage functions."""

from __future__ import annotations

from resolvers.records import EventQuery, EventRecord
from resolvers.stores import ClickHouse
from storage.clickhouse.events import count_events, events_by_ids, list_events


async def event_page(
    ch: ClickHouse, tenant_id: str, query: EventQuery, limit: int, offset: int
) -> tuple[list[EventRecord], int]:
    """One offset page of the matching events and how many match in all."""
    rows = await list_events(ch, tenant_id, query, limit, offset=offset)
    return rows, await count_events(ch, tenant_id, query)


async def event_by_id(ch: ClickHouse, tenant_id: str, event_id: str) -> EventRecord | None:
    return (await events_by_ids(ch, tenant_id, [event_id])).get(event_id)
