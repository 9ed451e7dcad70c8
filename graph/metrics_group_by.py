"""MetricsGroupBy: what metrics series are split by."""

from __future__ import annotations

from enum import Enum

import strawberry


@strawberry.enum(description="What metrics series are split by.")
class MetricsGroupBy(Enum):
    MODEL = strawberry.enum_value("model", description="The model of a span's first usage entry ('' when none).")
    NAME = strawberry.enum_value("name", description="The span's name (for executions, the root span's).")
    STATUS = strawberry.enum_value("status", description="RUNNING, SUCCEEDED, FAILED or CANCELLED.")
