"""Metrics: the answer of the `metrics` root field, the request it answers and one series per group."""

from __future__ import annotations

import strawberry

from graph.metrics_group_by import MetricsGroupBy
from graph.metrics_series import MetricsSeries
from graph.metrics_unit import MetricsUnit
from graph.scalars import DateTime
from graph.time_bucket import TimeBucket


@strawberry.type
class Metrics:
    from_: DateTime = strawberry.field(name="from")  # type: ignore[valid-type]
    to: DateTime  # type: ignore[valid-type]
    bucket: TimeBucket
    unit: MetricsUnit
    group_by: MetricsGroupBy | None
    series: list[MetricsSeries] = strawberry.field(
        description="Busiest group first (by count over the range); one series with a null key when not grouped."
    )
