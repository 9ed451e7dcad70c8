"""What actors and resources share: a (type, id) seen in events, its registry entry, and its events."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, ClassVar

import strawberry

from graph.connection import Connection
from graph.context import Info
from graph.node import Node
from graph.time_annotations import OptionalDateTime
from resolvers.events import nested_events_page
from resolvers.records import EntityRecord

if TYPE_CHECKING:
    from graph.event import Event


@strawberry.type
class Entity(Node):
    # Built without a lookup so that every entity in a list is ready in the same tick, and what its
    # fields load (registry entry, events, stats) batches into one query per field.
    type: str
    id: strawberry.ID
    grouping: ClassVar[str]  # "actor" or "resource": the loader and the events' dimension

    def node_key(self) -> tuple[str, ...]:
        return (type(self).__name__, self.type, str(self.id))

    async def _record(self, info: Info) -> EntityRecord | None:
        loader = info.context.loaders.actor_by_key if self.grouping == "actor" else info.context.loaders.resource_by_key
        return await loader.load((self.type, str(self.id)))

    @strawberry.field
    async def first_seen(self, info: Info) -> OptionalDateTime:
        record = await self._record(info)
        return record.first_seen if record else None

    @strawberry.field
    async def last_seen(self, info: Info) -> OptionalDateTime:
        record = await self._record(info)
        return record.last_seen if record else None

    async def _events(
        self, info: Info, first: int | None, after: str | None, last: int | None, before: str | None
    ) -> Connection[Annotated[Event, strawberry.lazy("graph.event")]]:
        from graph.event import Event

        ctx = info.context
        key = (self.type, str(self.id))
        page = await nested_events_page(
            ctx.loaders, ctx.stores.ch, ctx.tenant_id, self.grouping, key, first, after, False, last, before
        )
        return Connection.of(page, lambda r: Event(record=r))
