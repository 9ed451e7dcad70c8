"""Execution: one run of a workflow, agent or session; the root of a trace (its id is the trace id)."""

from __future__ import annotations

from functools import partial
from typing import TYPE_CHECKING, Annotated

import strawberry

from adapters.strawberry_internals import graphql_info
from graph.actor import Actor
from graph.connection import Connection
from graph.context import Info
from graph.cost import Cost
from graph.enums import SortDirection, SpanKind, SpanStatus
from graph.events_field import EventConnection, events_field
from graph.node import Node
from graph.ordering import SpanOrder, SpanOrderField
from graph.run_result import RunResult
from graph.scalars import JSON, DateTime, json_text
from graph.span import Span
from graph.span_selection import SpanNeeds, span_needs
from graph.time_annotations import OptionalDateTime
from graph.usage import Usage
from resolvers.events import nested_events_page
from resolvers.executions import spans_page, stored_spans_page
from resolvers.loaders import Loaders
from resolvers.paging import Page
from resolvers.records import ExecutionRecord, SpanRecord
from resolvers.trace import Trace

if TYPE_CHECKING:
    from graph.annotation import Annotation


async def read_spans_page(
    loaders: Loaders,
    record: ExecutionRecord,
    needs: SpanNeeds,
    first: int | None = 100,
    after: str | None = None,
    last: int | None = None,
    before: str | None = None,
    order_by: SpanOrder | None = None,
) -> tuple[Page[SpanRecord], Trace | None]:
    """The page `Execution.spans` answers with, and the trace it was cut from (None when read by itself).
    Query.execution reads it ahead with the same arguments (graph/execution_selection.py): the loaders'
    cache then makes the field's own read no second query."""
    if not needs.trace and (order_by is None or order_by.field is SpanOrderField.START_TIME):
        # the page by itself: a big trace pages without re-reading it, a skeleton reads no texts
        async def count() -> int:
            return record.span_count

        descending = order_by is not None and order_by.direction is SortDirection.DESC
        page = await stored_spans_page(loaders.span_page_by_execution, record.id, needs.details, count,
                                       first, after, last, before, descending)  # fmt: skip
        return page, None
    trace = await loaders.trace_by_execution.load(record.id)
    return spans_page(trace, first, after, order_by.to_order() if order_by else None, last, before), trace


@strawberry.type
class Execution(RunResult, Node):
    record: strawberry.Private[ExecutionRecord]

    def node_key(self) -> tuple[str, ...]:
        return ("Execution", self.record.id)

    @strawberry.field
    def id(self) -> strawberry.ID:
        return strawberry.ID(self.record.id)

    @strawberry.field(description="The root span's name.")
    def name(self) -> str:
        return self.record.name

    @strawberry.field(description="The root span's kind.")
    def kind(self) -> SpanKind:
        return SpanKind.of(self.record.kind)

    @strawberry.field(description="The root span's kind as stored (what OTHER stands for).")
    def kind_name(self) -> str:
        return self.record.kind

    @strawberry.field(description="The root span's status.")
    def status(self) -> SpanStatus:
        return SpanStatus(self.record.status)

    @strawberry.field
    def start_time(self) -> DateTime:  # type: ignore[valid-type]  # see graph/time_annotations.py
        return self.record.start_time

    @strawberry.field
    def end_time(self) -> OptionalDateTime:
        return self.record.end_time

    @strawberry.field
    def duration_ms(self) -> float | None:
        return self.record.duration_ms

    @strawberry.field(description="The root span's attributes (HoneyHive metadata, Vellum definitions, …).")
    def metadata(self) -> JSON | None:
        return json_text(self.record.attributes)

    @strawberry.field(
        description="The session it belongs to: a HoneyHive session is its own; a trace whose spans carry the "
        "OpenInference `session.id` attribute belongs to that session. `executions(filter: {sessionId})` "
        "lists a session's executions."
    )
    def session_id(self) -> str | None:
        return self.record.session_id

    @strawberry.field
    def span_count(self) -> int:
        return self.record.span_count

    @strawberry.field(description="Whether the execution or any of its spans failed.")
    def failed(self) -> bool:
        return self.record.status == "FAILED" or self.record.failed_spans > 0

    @strawberry.field(description="Summed over every span of the execution.")
    async def usage(self, info: Info) -> Usage:
        rollup = await info.context.loaders.rollup_by_execution.load(self.record.id)
        return Usage.of(rollup.usage_by_model)

    @strawberry.field(description="Summed over every span, one entry per unit.")
    async def cost(self, info: Info) -> list[Cost]:
        rollup = await info.context.loaders.rollup_by_execution.load(self.record.id)
        return [Cost(value=v, unit=u) for u, v in rollup.cost_by_unit]

    @strawberry.field(description="Every span, flat, in start order unless orderBy says otherwise, keyset-paged.")
    async def spans(
        self,
        info: Info,
        first: int | None = 100,
        after: str | None = None,
        last: int | None = None,
        before: str | None = None,
        order_by: SpanOrder | None = None,
    ) -> Connection[Span]:
        raw = graphql_info(info)
        needs = span_needs(raw.field_nodes, raw.fragments)
        page, trace = await read_spans_page(info.context.loaders, self.record, needs, first, after, last, before,
                                            order_by)  # fmt: skip
        return Connection.of(page, partial(Span.in_trace, trace), record_type=Span)

    @strawberry.field(description="Spans without a parent (normally one), with children to walk the tree.")
    async def root_spans(self, info: Info) -> list[Span]:
        trace = await info.context.loaders.trace_by_execution.load(self.record.id)
        return Span.all(trace.roots, trace)

    events = events_field("The execution's events, oldest first.")

    async def _events(
        self, info: Info, first: int | None, after: str | None, last: int | None, before: str | None
    ) -> EventConnection:
        from graph.event import Event

        ctx = info.context
        page = await nested_events_page(
            ctx.loaders, ctx.stores.ch, ctx.tenant_id, "execution", (self.record.id,), first, after, True, last, before
        )
        return Connection.of(page, lambda r: Event(record=r))

    @strawberry.field(description="The first actor seen in the execution's events.")
    async def actor(self, info: Info) -> Actor | None:
        ref = await info.context.loaders.actor_by_execution.load(self.record.id)
        if ref is None:
            return None
        return Actor(type=ref[0], id=strawberry.ID(ref[1]))

    @strawberry.field(description="Feedback on the execution itself, oldest first (its spans' is on each Span).")
    async def annotations(self, info: Info) -> list[Annotated[Annotation, strawberry.lazy("graph.annotation")]]:
        from graph.annotation import Annotation

        found = await info.context.loaders.annotations_by_target.load((self.record.id, ""))
        return [Annotation(record=r) for r in found]
