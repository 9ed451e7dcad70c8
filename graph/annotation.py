"""Annotation: feedback on an execution or a span (a score, a label, a comment) and who gave it."""

from __future__ import annotations

import strawberry

from graph.annotation_source import AnnotationSource
from graph.node import Node
from graph.scalars import JSON, DateTime, json_value
from resolvers import node_ids
from resolvers.records import AnnotationRecord


@strawberry.type(description="Feedback on an execution or a span. Written by `annotate`, HoneyHive `feedback`, "
                 "Vellum actuals or OpenInference span annotations; at least one of score, label, comment is set.")
class Annotation(Node):
    record: strawberry.Private[AnnotationRecord]

    def node_key(self) -> tuple[str, ...]:
        r = self.record
        return ("Annotation", r.execution_id, r.span_id, r.id)

    @strawberry.field
    def id(self) -> strawberry.ID:
        return strawberry.ID(self.record.id)

    @strawberry.field(description="What is judged: `rating`, `correctness`, a Vellum output key …")
    def name(self) -> str:
        return self.record.name

    @strawberry.field
    def score(self) -> float | None:
        return self.record.score

    @strawberry.field
    def label(self) -> str | None:
        return self.record.label

    @strawberry.field(description="Free text: a reviewer's note, an LLM judge's explanation, a desired output.")
    def comment(self) -> str | None:
        return self.record.comment

    @strawberry.field
    def source(self) -> AnnotationSource:
        return AnnotationSource(self.record.source)

    @strawberry.field(description="The format it came in: graphql, honeyhive, vellum or openinference.")
    def origin(self) -> str:
        return self.record.origin

    @strawberry.field(description="Who wrote it: `api_key:<key id>`.")
    def author(self) -> str:
        return self.record.author

    @strawberry.field(description="Format-specific extras (a Vellum output type and desired value, Phoenix metadata).")
    def metadata(self) -> JSON | None:
        return JSON(json_value(self.record.metadata))

    @strawberry.field(description="When the feedback was given (the format's timestamp, else when it was written).")
    def created_at(self) -> DateTime:  # type: ignore[valid-type]  # see graph/time_annotations.py
        return self.record.created_at

    @strawberry.field
    def execution_id(self) -> strawberry.ID:
        return strawberry.ID(self.record.execution_id)

    @strawberry.field(description="The span judged; null when the annotation is about the execution itself.")
    def span_id(self) -> strawberry.ID | None:
        return strawberry.ID(self.record.span_id) if self.record.span_id else None

    @strawberry.field(description="The `nodeId` of what is judged (a Span or an Execution), as `annotate` took it.")
    def target_id(self) -> strawberry.ID:
        r = self.record
        key = ("Span", r.execution_id, r.span_id) if r.span_id else ("Execution", r.execution_id)
        return strawberry.ID(node_ids.encode(*key))
