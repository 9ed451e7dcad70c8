"""Resource: what events are about (action_run, agent_spec, artifact, automation …)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import strawberry

from graph.connection import Connection
from graph.context import Info
from graph.entity import Entity

if TYPE_CHECKING:
    from graph.event import Event


@strawberry.type
class Resource(Entity):
    grouping = "resource"

    @strawberry.field
    async def name(self, info: Info) -> str | None:
        record = await self._record(info)
        return record.name if record else None

    @strawberry.field(description="Events about this resource, newest first.")
    async def events(
        self,
        info: Info,
        first: int | None = 100,
        after: str | None = None,
        last: int | None = None,
        before: str | None = None,
    ) -> Connection[Annotated[Event, strawberry.lazy("graph.event")]]:
        return await self._events(info, first, after, last, before)
