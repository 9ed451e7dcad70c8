"""AnnotationScorePoint: one time bucket of an annotation's scores."""

from __future__ import annotations

import strawberry

from graph.scalars import DateTime
from resolvers.records import ScoreRow


@strawberry.type(description="Annotations of one name created in [bucket, bucket + width).")
class AnnotationScorePoint:
    bucket: DateTime = strawberry.field(description="The bucket's start, UTC.")  # type: ignore[valid-type]
    count: int = strawberry.field(description="How many annotations of that name.")
    scored: int = strawberry.field(description="How many of them have a score.")
    average: float | None = strawberry.field(description="The mean score; null when none has one.")
    min: float | None = strawberry.field(description="The lowest score; null when none has one.")
    max: float | None = strawberry.field(description="The highest score; null when none has one.")

    @classmethod
    def of(cls, r: ScoreRow) -> AnnotationScorePoint:
        return cls(bucket=r.bucket, count=r.count, scored=r.scored, average=r.avg, min=r.min, max=r.max)
