"""What a span and an execution both show of their record: inputs, outputs and error."""

from __future__ import annotations

import strawberry

from graph.scalars import JSON, json_value
from graph.span_error import SpanError


@strawberry.type
class RunResult:
    # the subclass holds `record` (a SpanRecord or an ExecutionRecord): both carry these blobs as JSON text

    @strawberry.field
    def inputs(self) -> JSON | None:
        return json_value(self.record.inputs)  # type: ignore[attr-defined]

    @strawberry.field
    def outputs(self) -> JSON | None:
        return json_value(self.record.outputs)  # type: ignore[attr-defined]

    @strawberry.field
    def error(self) -> SpanError | None:
        return SpanError.from_json(self.record.error)  # type: ignore[attr-defined]
