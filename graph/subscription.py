"""The root Subscription type: live views over graphql-transport-ws, scoped to the connection's tenant.

Every payload is resolved with fresh dataloaders: the websocket context lives as long as the connection.
The root value, when the server gives one, is the operation's `StreamTap` (see server/shared_streams.py).
"""

from __future__ import annotations

from collections.abc import AsyncGenerator
from typing import Any

import strawberry

from graph.context import Info
from graph.event import Event
from graph.execution import Execution
from graph.inputs import EventFilter, ExecutionFilter
from graph.span import Span
from graph.span_update import SpanChange, SpanUpdate
from resolvers import live, live_executions
from resolvers.errors import bad_input
from resolvers.live import StreamTap as StreamTap  # the operation root the websocket layer hands in
from resolvers.records import EventQuery, ExecutionQuery


def _tap(info: Info) -> live.StreamTap | None:
    root: Any = info.root_value
    return root if isinstance(root, live.StreamTap) else None


@strawberry.type
class Subscription:
    @strawberry.subscription(description="Every span start, change and end of one execution, live.")
    async def execution_updates(
        self, info: Info, execution_id: strawberry.ID, include_existing: bool | None = False, after: str | None = None
    ) -> AsyncGenerator[SpanUpdate, None]:
        ctx = info.context
        stream = live.execution_updates(
            ctx.stores.live_bus, ctx.stores.ch, ctx.tenant_id, str(execution_id), bool(include_existing), after,
            ctx.guard, _tap(info),
        )  # fmt: skip
        async for item in stream:
            ctx.refresh_loaders()
            yield SpanUpdate(
                span=Span.of(item.span, item.trace),
                change=SpanChange(item.change),
                cursor=item.cursor,
                event=Event(record=item.event) if item.event else None,
            )

    @strawberry.subscription(description="A live tail of the events matching the filter.")
    async def events(
        self, info: Info, filter: EventFilter | None = None, after: str | None = None
    ) -> AsyncGenerator[Event, None]:
        ctx = info.context
        query = filter.to_query() if filter else EventQuery()
        async for item in live.events(ctx.stores.live_bus, ctx.tenant_id, query, after, ctx.guard, _tap(info)):
            ctx.refresh_loaders()
            yield Event(record=item.event, cursor=item.cursor)

    @strawberry.subscription(description="Executions as they start and as they finish.")
    async def executions(self, info: Info, filter: ExecutionFilter | None = None) -> AsyncGenerator[Execution, None]:
        ctx = info.context
        if filter is not None and filter.annotation is not None:  # live roots carry no annotations to match
            raise bad_input("the executions subscription does not filter by annotation", "filter.annotation")
        query = filter.to_query() if filter else ExecutionQuery()
        stream = live_executions.executions(
            ctx.stores.live_bus, ctx.stores.ch, ctx.tenant_id, query, ctx.refresh_loaders, ctx.guard, _tap(info)
        )
        async for record in stream:
            yield Execution(record=record)
