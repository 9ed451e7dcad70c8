"""Actor: who caused events (user, agent, service, api_key, schedule, system …)."""

from __future__ import annotations

import strawberry

from graph.actor_stats import ActorStats
from graph.context import Info
from graph.entity import Entity
from graph.events_field import events_field
from graph.time_annotations import From, OptionalDateTime


@strawberry.type
class Actor(Entity):
    grouping = "actor"

    @strawberry.field
    async def display_name(self, info: Info) -> str | None:
        record = await self._record(info)
        return record.name if record else None

    events = events_field("Events this actor caused, newest first.")

    @strawberry.field(name="stats", description="Successes, failures and total over [from, to).")
    async def stats(
        self,
        info: Info,
        from_: From = None,
        to: OptionalDateTime = None,
    ) -> ActorStats:
        record = await info.context.loaders.actor_stats_by_actor.load((self.type, str(self.id), from_, to))
        return ActorStats.of(record)
