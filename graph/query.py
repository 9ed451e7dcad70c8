"""The root Query type: reads, always scoped to the caller's tenant."""

from __future__ import annotations

from typing import Annotated, Any, cast

import strawberry
from strawberry.types.nodes import SelectedField

from graph.actor import Actor
from graph.actor_stats import ActorStats
from graph.annotation_score_point import AnnotationScorePoint
from graph.annotation_scores import AnnotationScores
from graph.annotation_source import AnnotationSource
from graph.connection import Connection
from graph.context import Info
from graph.delete_mutations import DeletionQueries
from graph.event import Event
from graph.event_aggregates import EventAggregates
from graph.execution import Execution
from graph.execution_selection import UnsummarizedExecution, needs_summary, spans_found
from graph.inputs import EventFilter, ExecutionFilter
from graph.metrics import Metrics
from graph.metrics_filter import MetricsFilter
from graph.metrics_group_by import MetricsGroupBy
from graph.metrics_series import MetricsSeries
from graph.metrics_unit import MetricsUnit
from graph.node import Node
from graph.node_lookup import node_of
from graph.ordering import EventOrder, ExecutionOrder
from graph.resource import Resource
from graph.span import Span
from graph.time_annotations import From, OptionalDateTime, RequiredDateTime, RequiredFrom
from graph.time_bucket import TimeBucket
from resolvers import aggregates, live
from resolvers.annotation_scores import annotation_scores
from resolvers.events import events_page
from resolvers.executions import executions_page
from resolvers.metrics import MAX_BUCKETS, MetricsFilterValues, metrics_series
from resolvers.nodes import load_nodes
from resolvers.paging import Page
from resolvers.records import EventQuery, EventRecord, ExecutionQuery, ExecutionRecord
from resolvers.search import search_spans_page
from resolvers.trace import Trace

TREE_FIELDS = frozenset({"parent", "children"})


def _walks_the_tree(info: Info) -> bool:
    """Whether the span's own parent or children are asked for (fragments included): they are read from
    its whole trace."""
    pending: list[Any] = list(info.selected_fields[0].selections) if info.selected_fields else []
    while pending:
        selection = pending.pop()
        if isinstance(selection, SelectedField):
            if selection.name in TREE_FIELDS:
                return True
        else:  # a fragment spread or an inline fragment
            pending.extend(selection.selections)
    return False


def _event_connection(page: Page[EventRecord], after: str | None) -> Connection[Event]:
    return Connection.of(page, lambda r: Event(record=r), after is not None)


@strawberry.type
class Query(DeletionQueries):
    @strawberry.field(description="Any object by its `nodeId`; null when this tenant has no such object.")
    async def node(self, info: Info, id: strawberry.ID) -> Node | None:
        return node_of((await load_nodes(info.context.loaders, [str(id)], "id"))[0])

    @strawberry.field(description="Objects by `nodeId`, in the order asked; null for each one not found.")
    async def nodes(self, info: Info, ids: list[strawberry.ID]) -> list[Node | None]:
        return [node_of(f) for f in await load_nodes(info.context.loaders, [str(i) for i in ids])]

    @strawberry.field(description="One execution (trace) by id.")
    async def execution(self, info: Info, id: strawberry.ID) -> Execution | None:
        loaders = info.context.loaders
        if not needs_summary(info):
            # only its spans: whether it exists is all the page needs to know, and a page with a span
            # says so (graph/execution_selection.py)
            if not (await spans_found(info, str(id)) or await loaders.execution_exists_by_id.load(str(id))):
                return None
            return Execution(record=cast(ExecutionRecord, UnsummarizedExecution(str(id))))
        found = await loaders.execution_by_id.load(str(id))
        return Execution(record=found) if found else None

    @strawberry.field(description="Executions, newest first unless orderBy says otherwise, keyset-paged.")
    async def executions(
        self,
        info: Info,
        filter: ExecutionFilter | None = None,
        first: int | None = 50,
        after: str | None = None,
        last: int | None = None,
        before: str | None = None,
        order_by: ExecutionOrder | None = None,
    ) -> Connection[Execution]:
        query = filter.to_query() if filter else ExecutionQuery()
        order = order_by.to_order() if order_by else None
        page = await executions_page(
            info.context.stores.ch, info.context.tenant_id, query, first, after, order, last, before
        )
        return Connection.of(page, lambda r: Execution(record=r), after is not None)

    @strawberry.field(description="One span of an execution.")
    async def span(self, info: Info, execution_id: strawberry.ID, span_id: strawberry.ID) -> Span | None:
        if _walks_the_tree(info):
            trace = await info.context.loaders.trace_by_execution.load(str(execution_id))
            found = trace.by_id.get(str(span_id))
            return Span.of(found, trace) if found else None
        # One span of a 50,000-span trace: read its own pieces, not the whole trace.
        record = await info.context.loaders.span_by_key.load((str(execution_id), str(span_id)))
        return Span.of(record, Trace([record])) if record else None

    @strawberry.field(
        description="One event by id. Ids are unique within a format (`Event.source`), not across formats: "
        "without `source`, the newest event with that id."
    )
    async def event(self, info: Info, id: strawberry.ID, source: str | None = None) -> Event | None:
        found = await info.context.loaders.event_by_id.load((source or "", str(id)))
        return Event(record=found) if found else None

    @strawberry.field(description="The event log, newest first unless orderBy says otherwise, keyset-paged.")
    async def events(
        self,
        info: Info,
        filter: EventFilter | None = None,
        first: int | None = 100,
        after: str | None = None,
        last: int | None = None,
        before: str | None = None,
        order_by: EventOrder | None = None,
    ) -> Connection[Event]:
        query = filter.to_query() if filter else EventQuery()
        order = order_by.to_order() if order_by else None
        ctx = info.context
        page = await events_page(ctx.stores.ch, ctx.tenant_id, query, first, after, order, last, before)
        return _event_connection(page, after)

    @strawberry.field(description="Events sharing a correlation id, oldest first.")
    async def events_by_correlation(
        self,
        info: Info,
        correlation_id: str,
        first: int | None = 100,
        after: str | None = None,
        last: int | None = None,
        before: str | None = None,
        order_by: EventOrder | None = None,
    ) -> Connection[Event]:
        query = EventQuery(correlation_id=correlation_id, ascending=True)
        order = order_by.to_order() if order_by else None
        ctx = info.context
        page = await events_page(ctx.stores.ch, ctx.tenant_id, query, first, after, order, last, before)
        return _event_connection(page, after)

    @strawberry.field(description="Events about one resource, newest first.")
    async def events_by_resource(
        self,
        info: Info,
        resource_type: str,
        resource_id: str,
        first: int | None = 100,
        after: str | None = None,
        last: int | None = None,
        before: str | None = None,
        order_by: EventOrder | None = None,
    ) -> Connection[Event]:
        query = EventQuery(resource_type=resource_type, resource_id=resource_id)
        order = order_by.to_order() if order_by else None
        ctx = info.context
        page = await events_page(ctx.stores.ch, ctx.tenant_id, query, first, after, order, last, before)
        return _event_connection(page, after)

    @strawberry.field(description="Event counts over [from, to): in all and by type, actor type, resource type.")
    async def event_aggregates(
        self,
        info: Info,
        from_: From = None,
        to: OptionalDateTime = None,
    ) -> EventAggregates:
        found = await aggregates.event_aggregates(info.context.stores.ch, info.context.tenant_id, from_, to)
        return EventAggregates.of(found)

    @strawberry.field(description="Per actor over [from, to): successes, failures and total, busiest first.")
    async def actor_stats(
        self,
        info: Info,
        from_: From = None,
        to: OptionalDateTime = None,
    ) -> list[ActorStats]:
        found = await aggregates.actor_stats(info.context.stores.ch, info.context.tenant_id, from_, to)
        return [ActorStats.of(r) for r in found]

    @strawberry.field(description="An actor seen in this tenant's events.")
    async def actor(self, info: Info, type: str, id: str) -> Actor | None:
        found = await info.context.loaders.actor_by_key.load((type, id))
        return Actor(type=type, id=strawberry.ID(id)) if found else None

    @strawberry.field(description="A resource seen in this tenant's events.")
    async def resource(self, info: Info, type: str, id: str) -> Resource | None:
        found = await info.context.loaders.resource_by_key.load((type, id))
        return Resource(type=type, id=strawberry.ID(id)) if found else None

    @strawberry.field(
        description="Time series over [from, to): per UTC bucket (and group), count, errors, latency "
        f"percentiles, tokens and USD cost of the spans or executions that started in it. At most {MAX_BUCKETS} "
        "buckets a request; empty buckets are zeros."
    )
    async def metrics(
        self,
        info: Info,
        from_: RequiredFrom,
        to: RequiredDateTime,
        bucket: TimeBucket,
        group_by: MetricsGroupBy | None = None,
        unit: MetricsUnit = MetricsUnit.SPANS,
        filter: MetricsFilter | None = None,
        max_groups: Annotated[int, strawberry.argument(description="The busiest groups kept (1 to 100).")] = 20,
    ) -> Metrics:
        found = await metrics_series(
            info.context.stores.ch, info.context.tenant_id, from_, to, str(bucket.value), str(unit.value),
            str(group_by.value) if group_by else None, max_groups, filter.values() if filter else MetricsFilterValues(),
        )  # fmt: skip
        return Metrics(
            from_=from_, to=to, bucket=bucket, unit=unit, group_by=group_by,
            series=[MetricsSeries.of(s) for s in found],
        )  # fmt: skip

    @strawberry.field(
        description="Spans whose name, inputs, outputs or error contain `search` (case-insensitive substring; "
        "`%` and `_` are literal), newest first, keyset-paged."
    )
    async def search_spans(
        self, info: Info, search: str, first: int | None = 50, after: str | None = None
    ) -> Connection[Span]:
        ctx = info.context
        page, traces = await search_spans_page(ctx.stores.ch, ctx.loaders, ctx.tenant_id, search, first, after)
        return Connection.of(page, lambda r: Span.of(r, traces[r.execution_id]), after is not None)

    @strawberry.field(
        description="The live streams' position now: pass it as `after` to `executionUpdates` or `events` to get "
        "every update from this moment on. Read it before a snapshot (a trace, a page of events) and nothing "
        "falls between the snapshot and the stream."
    )
    async def live_cursor(self, info: Info) -> str:
        return await live.live_cursor(info.context.stores.live_bus, info.context.tenant_id)

    @strawberry.field(
        description="One annotation name's scores over [from, to): per UTC bucket (by when the feedback was given), "
        f"how many, and their average, minimum and maximum. At most {MAX_BUCKETS} buckets a request."
    )
    async def annotation_scores(
        self,
        info: Info,
        name: str,
        from_: RequiredFrom,
        to: RequiredDateTime,
        bucket: TimeBucket,
        source: AnnotationSource | None = None,
    ) -> AnnotationScores:
        ctx = info.context
        rows = await annotation_scores(
            ctx.stores.ch, ctx.tenant_id, name, from_, to, str(bucket.value), source.value if source else None
        )
        return AnnotationScores(
            name=name, from_=from_, to=to, bucket=bucket, source=source,
            points=[AnnotationScorePoint.of(r) for r in rows],
        )  # fmt: skip
