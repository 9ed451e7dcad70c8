"""AnnotationInput: one annotation of an `annotateMany` batch."""

from __future__ import annotations

import strawberry

from graph.annotation_source import AnnotationSource
from graph.scalars import JSON


@strawberry.input(
    description="Feedback on a Span or an Execution (its `nodeId`); at least one of score, label, comment."
)
class AnnotationInput:
    target_id: strawberry.ID
    name: str
    source: AnnotationSource
    score: float | None = None
    label: str | None = None
    comment: str | None = None
    metadata: JSON | None = strawberry.field(default=None, description="A JSON object kept with it.")
