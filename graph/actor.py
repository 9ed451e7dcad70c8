"""Actor: who caused events (user, agent, service, api_key, schedule, system …)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import strawberry

from graph.actor_stats import ActorStats
from graph.connection import Connection
from graph.context import Info
from graph.scalars import DateTime
from resolvers.events import nested_events_page
from storage.postgres.entities import EntityRecord

if TYPE_CHECKING:
    from graph.event import Event


@strawberry.type
class Actor:
    type: str
    id: strawberry.ID
    # Built without a lookup so that every actor in a list is ready in the same tick, and what its
    # fields load (registry entry, events, stats) batches into one query per field.

    async def _record(self, info: Info) -> EntityRecord | None:
        return await info.context.loaders.actor_by_key.load((self.type, str(self.id)))

    @strawberry.field
    async def display_name(self, info: Info) -> str | None:
        record = await self._record(info)
        return record.name if record else None

    @strawberry.field
    async def first_seen(self, info: Info) -> DateTime | None:  # type: ignore[valid-type]
        record = await self._record(info)
        return record.first_seen if record else None

    @strawberry.field
    async def last_seen(self, info: Info) -> DateTime | None:  # type: ignore[valid-type]
        record = await self._record(info)
        return record.last_seen if record else None

    @strawberry.field(description="Events this actor caused, newest first.")
    async def events(
        self, info: Info, first: int | None = 100, after: str | None = None
    ) -> Connection[Annotated[Event, strawberry.lazy("graph.event")]]:
        from graph.event import Event

        ctx = info.context
        key = (self.type, str(self.id))
        page = await nested_events_page(ctx.loaders, ctx.stores.ch, ctx.tenant_id, "actor", key, first, after, False)
        return Connection.of(page, lambda r: Event(record=r), after is not None)

    @strawberry.field(name="stats", description="Successes, failures and total over [from, to).")
    async def stats(
        self,
        info: Info,
        from_: Annotated[DateTime | None, strawberry.argument(name="from")] = None,  # type: ignore[valid-type]
        to: DateTime | None = None,  # type: ignore[valid-type]
    ) -> ActorStats:
        record = await info.context.loaders.actor_stats_by_actor.load((self.type, str(self.id), from_, to))
        return ActorStats.of(record)
