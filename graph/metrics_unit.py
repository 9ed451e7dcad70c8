"""MetricsUnit: whether metrics count spans or executions."""

from __future__ import annotations

from enum import Enum

import strawberry


@strawberry.enum(description="What metrics count.")
class MetricsUnit(Enum):
    SPANS = strawberry.enum_value("spans", description="Every span, by its own start, status, latency and usage.")
    EXECUTIONS = strawberry.enum_value(
        "executions",
        description="Every execution (trace), by its earliest start, its root span's name, status and latency, "
        "and tokens and cost summed over all its spans.",
    )
