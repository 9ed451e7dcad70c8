"""Event: an immutable fact at a point in time (a span lifecycle event or an audit event)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import orjson
import strawberry

from graph.actor import Actor
from graph.context import Info
from graph.node import Node
from graph.resource import Resource
from graph.scalars import JSON, DateTime
from resolvers.records import EventRecord

if TYPE_CHECKING:
    from graph.execution import Execution
    from graph.span import Span


@strawberry.type
class Event(Node):
    record: strawberry.Private[EventRecord]
    cursor: str | None = strawberry.field(
        default=None, description="On events from the `events` subscription: pass as `after` to resume."
    )

    def node_key(self) -> tuple[str, ...]:
        return ("Event", self.record.source, self.record.id)

    @strawberry.field
    def id(self) -> strawberry.ID:
        return strawberry.ID(self.record.id)

    @strawberry.field(description="The event type, e.g. `node.execution.fulfilled` or `schedule.fired`.")
    def name(self) -> str:
        return self.record.name

    @strawberry.field
    def timestamp(self) -> DateTime:  # type: ignore[valid-type]  # see graph/time_annotations.py
        return self.record.timestamp

    @strawberry.field(description="Which write format it came in: vellum, honeyhive, audit or graphql.")
    def source(self) -> str:
        return self.record.source

    @strawberry.field
    def execution_id(self) -> strawberry.ID | None:
        return strawberry.ID(self.record.execution_id) if self.record.execution_id else None

    @strawberry.field
    def span_id(self) -> strawberry.ID | None:
        return strawberry.ID(self.record.span_id) if self.record.span_id else None

    @strawberry.field
    def correlation_id(self) -> str | None:
        return self.record.correlation_id or None

    @strawberry.field
    def causation_id(self) -> str | None:
        return self.record.causation_id or None

    @strawberry.field(description="success, failure, or null when the event is neither (see README).")
    def outcome(self) -> str | None:
        return self.record.outcome or None

    @strawberry.field
    def payload(self) -> JSON | None:
        return orjson.loads(self.record.payload)

    @strawberry.field
    def actor(self) -> Actor | None:
        r = self.record
        return Actor(type=r.actor_type, id=strawberry.ID(r.actor_id)) if r.actor_type and r.actor_id else None

    @strawberry.field
    def resource(self) -> Resource | None:
        r = self.record
        if not (r.resource_type and r.resource_id):
            return None
        return Resource(type=r.resource_type, id=strawberry.ID(r.resource_id))

    @strawberry.field(description="The event named by causationId, when it is stored.")
    async def caused_by(self, info: Info) -> Event | None:
        if not self.record.causation_id:
            return None
        # the cause is looked for in the event's own format first
        loader = info.context.loaders.event_by_id
        found = await loader.load((self.record.source, self.record.causation_id))
        found = found or await loader.load(("", self.record.causation_id))
        return Event(record=found) if found else None

    @strawberry.field
    async def execution(self, info: Info) -> Annotated[Execution, strawberry.lazy("graph.execution")] | None:
        from graph.execution import Execution

        if not self.record.execution_id:
            return None
        found = await info.context.loaders.execution_by_id.load(self.record.execution_id)
        return Execution(record=found) if found else None

    @strawberry.field
    async def span(self, info: Info) -> Annotated[Span, strawberry.lazy("graph.span")] | None:
        from graph.span import Span

        if not (self.record.execution_id and self.record.span_id):
            return None
        trace = await info.context.loaders.trace_by_execution.load(self.record.execution_id)
        found = trace.by_id.get(self.record.span_id)
        return Span.of(found, trace) if found else None
