"""What a span and an execution both show of their record: inputs, outputs and error."""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol

import strawberry

from graph.scalars import JSON, json_text
from graph.span_error import SpanError


class _Blobs(Protocol):
    """What a SpanRecord and an ExecutionRecord both carry: these blobs as JSON text."""

    inputs: str
    outputs: str
    error: str


@strawberry.type
class RunResult:
    if TYPE_CHECKING:  # declared by the subclass, as a strawberry.Private field of its own record type
        record: _Blobs

    @strawberry.field
    def inputs(self) -> JSON | None:
        return json_text(self.record.inputs)

    @strawberry.field
    def outputs(self) -> JSON | None:
        return json_text(self.record.outputs)

    @strawberry.field
    def error(self) -> SpanError | None:
        raw = self.record.error  # most spans have none: answered without a further call
        return SpanError.from_json(raw) if raw else None
