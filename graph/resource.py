"""Resource: what events are about (action_run, agent_spec, artifact, automation …)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import strawberry

from graph.connection import Connection
from graph.context import Info
from graph.scalars import DateTime
from resolvers.events import nested_events_page
from storage.postgres.entities import EntityRecord

if TYPE_CHECKING:
    from graph.event import Event


@strawberry.type
class Resource:
    type: str
    id: strawberry.ID
    record: strawberry.Private[EntityRecord | None] = None

    @strawberry.field
    def name(self) -> str | None:
        return self.record.name if self.record else None

    @strawberry.field
    def first_seen(self) -> DateTime | None:  # type: ignore[valid-type]
        return self.record.first_seen if self.record else None

    @strawberry.field
    def last_seen(self) -> DateTime | None:  # type: ignore[valid-type]
        return self.record.last_seen if self.record else None

    @strawberry.field(description="Events about this resource, newest first.")
    async def events(
        self, info: Info, first: int | None = 100, after: str | None = None
    ) -> Connection[Annotated[Event, strawberry.lazy("graph.event")]]:
        from graph.event import Event

        ctx = info.context
        key = (self.type, str(self.id))
        page = await nested_events_page(ctx.loaders, ctx.stores.ch, ctx.tenant_id, "resource", key, first, after, False)
        return Connection.of(page, lambda r: Event(record=r), after is not None)
