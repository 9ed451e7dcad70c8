"""AnnotationFilter: executions with matching feedback, on the execution or on any of its spans."""

from __future__ import annotations

import strawberry

from graph.annotation_source import AnnotationSource
from resolvers.records import AnnotationQuery


@strawberry.input(description="Matches executions with at least one annotation (on it or any of its spans) that "
                  "meets every field set.")
class AnnotationFilter:
    name: str | None = None
    min_score: float | None = strawberry.field(default=None, description="Score at least this (inclusive).")
    max_score: float | None = strawberry.field(default=None, description="Score at most this (inclusive).")
    label: str | None = None
    source: AnnotationSource | None = None

    def to_query(self) -> AnnotationQuery:
        return AnnotationQuery(
            name=self.name, min_score=self.min_score, max_score=self.max_score, label=self.label,
            source=self.source.value if self.source else None,
        )  # fmt: skip
