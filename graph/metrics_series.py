"""MetricsSeries: one group's points, every bucket of the range in time order."""

from __future__ import annotations

import strawberry

from graph.metrics_point import MetricsPoint
from resolvers.metrics import Series


@strawberry.type
class MetricsSeries:
    key: str | None = strawberry.field(description="The group's model, name or status; null when not grouped.")
    points: list[MetricsPoint]

    @classmethod
    def of(cls, s: Series) -> MetricsSeries:
        return cls(key=s.key, points=[MetricsPoint.of(p) for p in s.points])
