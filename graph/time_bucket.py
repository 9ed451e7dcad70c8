"""TimeBucket: the width of a metrics bucket; buckets are aligned in UTC."""

from __future__ import annotations

from enum import Enum

import strawberry


@strawberry.enum(description="The width of a metrics bucket; buckets start on UTC boundaries (a DAY at 00:00 UTC).")
class TimeBucket(Enum):
    MINUTE = "MINUTE"
    HOUR = "HOUR"
    DAY = "DAY"
