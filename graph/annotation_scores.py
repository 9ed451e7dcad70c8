"""AnnotationScores: the answer of `annotationScores`, a time series of one annotation name's scores."""

from __future__ import annotations

import strawberry

from graph.annotation_score_point import AnnotationScorePoint
from graph.annotation_source import AnnotationSource
from graph.scalars import DateTime
from graph.time_bucket import TimeBucket


@strawberry.type
class AnnotationScores:
    name: str
    from_: DateTime = strawberry.field(name="from")  # type: ignore[valid-type]
    to: DateTime  # type: ignore[valid-type]
    bucket: TimeBucket
    source: AnnotationSource | None
    points: list[AnnotationScorePoint] = strawberry.field(
        description="Every bucket of [from, to) in time order, zeros (and null scores) where none was given."
    )
