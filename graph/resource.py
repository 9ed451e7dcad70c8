"""Resource: what events are about (action_run, agent_spec, artifact, automation …)."""

from __future__ import annotations

import strawberry

from graph.context import Info
from graph.entity import Entity
from graph.events_field import events_field


@strawberry.type
class Resource(Entity):
    grouping = "resource"

    @strawberry.field
    async def name(self, info: Info) -> str | None:
        record = await self._record(info)
        return record.name if record else None

    events = events_field("Events about this resource, newest first.")
