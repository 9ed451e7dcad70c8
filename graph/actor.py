"""Actor: who caused events (user, agent, service, api_key, schedule, system …)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import strawberry

from graph.actor_stats import ActorStats
from graph.connection import Connection
from graph.context import Info
from graph.entity import Entity
from graph.time_annotations import From, OptionalDateTime

if TYPE_CHECKING:
    from graph.event import Event


@strawberry.type
class Actor(Entity):
    grouping = "actor"

    @strawberry.field
    async def display_name(self, info: Info) -> str | None:
        record = await self._record(info)
        return record.name if record else None

    @strawberry.field(description="Events this actor caused, newest first.")
    async def events(
        self,
        info: Info,
        first: int | None = 100,
        after: str | None = None,
        last: int | None = None,
        before: str | None = None,
    ) -> Connection[Annotated[Event, strawberry.lazy("graph.event")]]:
        return await self._events(info, first, after, last, before)

    @strawberry.field(name="stats", description="Successes, failures and total over [from, to).")
    async def stats(
        self,
        info: Info,
        from_: From = None,
        to: OptionalDateTime = None,
    ) -> ActorStats:
        record = await info.context.loaders.actor_stats_by_actor.load((self.type, str(self.id), from_, to))
        return ActorStats.of(record)
