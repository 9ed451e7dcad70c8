"""Inputs of the write mutations and the event filter."""

from __future__ import annotations

import strawberry

from graph.annotation_filter import AnnotationFilter
from graph.entity_ref import EntityRefInput
from graph.enums import SpanStatus
from graph.scalars import JSON, DateTime
from graph.time_annotations import OptionalDateTime
from resolvers.records import EventQuery, ExecutionQuery


@strawberry.input(description="A lifecycle or audit event; id and timestamp default to new/now.")
class EventInput:
    name: str
    id: strawberry.ID | None = None
    timestamp: OptionalDateTime = None
    execution_id: strawberry.ID | None = None
    span_id: strawberry.ID | None = None
    parent_span_id: strawberry.ID | None = None
    actor: EntityRefInput | None = None
    resource: EntityRefInput | None = None
    correlation_id: str | None = None
    causation_id: str | None = None
    payload: JSON | None = None


@strawberry.input(description="A complete span, logged in one call.")
class SpanInput:
    execution_id: strawberry.ID
    name: str
    start_time: DateTime  # type: ignore[valid-type]  # see graph/time_annotations.py
    id: strawberry.ID | None = None
    parent_id: strawberry.ID | None = None
    kind: str | None = None
    status: str | None = None
    end_time: OptionalDateTime = None
    inputs: JSON | None = None
    outputs: JSON | None = None
    error: JSON | None = None
    attributes: JSON | None = None
    usage: JSON | None = None
    cost: JSON | None = None


@strawberry.input(description="Every field is optional; fields combine with AND.")
class EventFilter:
    names: list[str] | None = strawberry.field(default=None, description="Event types, any of.")
    sources: list[str] | None = None
    actor_type: str | None = None
    actor_id: str | None = None
    resource_type: str | None = None
    resource_id: str | None = None
    correlation_id: str | None = None
    causation_id: str | None = None
    execution_id: strawberry.ID | None = None
    span_id: strawberry.ID | None = None
    from_: OptionalDateTime = strawberry.field(default=None, name="from")
    to: OptionalDateTime = None

    def to_query(self) -> EventQuery:
        return EventQuery(
            names=tuple(self.names or ()),
            sources=tuple(self.sources or ()),
            actor_type=self.actor_type,
            actor_id=self.actor_id,
            resource_type=self.resource_type,
            resource_id=self.resource_id,
            correlation_id=self.correlation_id,
            causation_id=self.causation_id,
            execution_id=self.execution_id,
            span_id=self.span_id,
            since=self.from_,
            until=self.to,
        )


@strawberry.input(description="Every field is optional; fields combine with AND.")
class ExecutionFilter:
    statuses: list[SpanStatus] | None = strawberry.field(default=None, description="Root span statuses, any of.")
    name: str | None = None
    name_contains: str | None = strawberry.field(default=None, description="Case-insensitive substring of the name.")
    kinds: list[str] | None = strawberry.field(default=None, description="Root span kindNames, any of.")
    actor_type: str | None = None
    actor_id: str | None = None
    session_id: str | None = None
    from_: OptionalDateTime = strawberry.field(default=None, name="from")
    to: OptionalDateTime = None
    failed: bool | None = strawberry.field(default=None, description="Whether it or any of its spans failed.")
    search: str | None = strawberry.field(
        default=None,
        description="Any of its spans' name, inputs, outputs or error contains it (case-insensitive substring).",
    )
    annotation: AnnotationFilter | None = strawberry.field(
        default=None, description="It or one of its spans has an annotation matching this."
    )

    def to_query(self) -> ExecutionQuery:
        return ExecutionQuery(
            statuses=tuple(s.value for s in self.statuses or ()),
            name=self.name,
            name_contains=self.name_contains,
            kinds=tuple(k.upper() for k in self.kinds or ()),
            actor_type=self.actor_type,
            actor_id=self.actor_id,
            session_id=self.session_id,
            since=self.from_,
            until=self.to,
            failed=self.failed,
            search=self.search,
            annotation=self.annotation.to_query() if self.annotation else None,
        )
