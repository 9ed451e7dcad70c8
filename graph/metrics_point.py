"""MetricsPoint: what started in one time bucket of one series."""

from __future__ import annotations

import strawberry

from graph.scalars import DateTime
from resolvers.metrics import MetricsRow


@strawberry.type(description="Spans or executions that started in [bucket, bucket + width).")
class MetricsPoint:
    bucket: DateTime = strawberry.field(description="The bucket's start, UTC.")  # type: ignore[valid-type]
    count: int
    errors: int = strawberry.field(description="How many have status FAILED.")
    latency_p50_ms: float | None = strawberry.field(description="Exact percentile of the ended; null if none.")
    latency_p90_ms: float | None
    latency_p99_ms: float | None
    input_tokens: int
    output_tokens: int
    cost_usd: float = strawberry.field(description="The sum of USD cost entries.")

    @strawberry.field(description="inputTokens + outputTokens.")
    def total_tokens(self) -> int:
        return self.input_tokens + self.output_tokens

    @classmethod
    def of(cls, r: MetricsRow) -> MetricsPoint:
        return cls(
            bucket=r.bucket, count=r.count, errors=r.errors, latency_p50_ms=r.p50_ms, latency_p90_ms=r.p90_ms,
            latency_p99_ms=r.p99_ms, input_tokens=r.input_tokens, output_tokens=r.output_tokens, cost_usd=r.cost_usd,
        )  # fmt: skip
