"""MetricsFilter: which spans or executions metrics count."""

from __future__ import annotations

import strawberry

from resolvers.metrics import MetricsFilterValues


@strawberry.input(description="Every field is optional; fields combine with AND, values in a list with OR.")
class MetricsFilter:
    names: list[str] | None = strawberry.field(default=None, description="Span names (executions: root span).")
    kinds: list[str] | None = strawberry.field(default=None, description="Span kinds: LLM, CHAIN, WORKFLOW, …")
    statuses: list[str] | None = strawberry.field(default=None, description="RUNNING, SUCCEEDED, FAILED, CANCELLED.")
    models: list[str] | None = strawberry.field(default=None, description="Models (spans only).")

    def values(self) -> MetricsFilterValues:
        return MetricsFilterValues(
            names=tuple(self.names or ()),
            kinds=tuple(k.upper() for k in self.kinds or ()),
            statuses=tuple(s.upper() for s in self.statuses or ()),
            models=tuple(self.models or ()),
        )
