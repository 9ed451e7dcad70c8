"""SpanUpdate: one change to a span of a running execution, as `executionUpdates` streams them."""

from __future__ import annotations

from enum import Enum
from typing import TYPE_CHECKING, Annotated

import strawberry

from graph.span import Span

if TYPE_CHECKING:
    from graph.event import Event


@strawberry.enum(description="What an update did to its span.")
class SpanChange(Enum):
    STARTED = "STARTED"
    UPDATED = "UPDATED"
    FINISHED = "FINISHED"


@strawberry.type
class SpanUpdate:
    span: Span = strawberry.field(description="The span's merged state after this update.")
    change: SpanChange
    cursor: str = strawberry.field(description="Pass as `after` when resubscribing to continue from here.")
    event: Annotated[Event, strawberry.lazy("graph.event")] | None = strawberry.field(
        description="The event that caused the update; null for spans sent by includeExisting."
    )
