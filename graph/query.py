"""The root Query type: reads, always scoped to the caller's tenant."""

from __future__ import annotations

import strawberry

from graph.connection import Connection
from graph.context import Info
from graph.event import Event
from graph.inputs import EventFilter
from resolvers.events import events_page
from storage.clickhouse.events import EventQuery


@strawberry.type
class Query:
    @strawberry.field(description="One event by id.")
    async def event(self, info: Info, id: strawberry.ID) -> Event | None:
        found = await info.context.loaders.event_by_id.load(str(id))
        return Event(record=found) if found else None

    @strawberry.field(description="The event log, newest first, keyset-paged.")
    async def events(
        self, info: Info, filter: EventFilter | None = None, first: int | None = 100, after: str | None = None
    ) -> Connection[Event]:
        query = filter.to_query() if filter else EventQuery()
        page = await events_page(info.context.stores.ch, info.context.tenant_id, query, first, after)
        return Connection.of(page, lambda r: Event(record=r), after is not None)
