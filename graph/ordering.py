"""`orderBy` inputs of the lists: which field to sort by (a closed set per list) and the direction."""

from __future__ import annotations

from enum import Enum
from typing import Any

import strawberry

from graph.enums import SortDirection
from resolvers.events import event_order
from resolvers.executions import execution_order, span_order
from resolvers.paging import Order


@strawberry.enum(description="What executions can be sorted by; DURATION puts running ones first ascending.")
class ExecutionOrderField(Enum):
    START_TIME = "START_TIME"
    DURATION = "DURATION"
    NAME = "NAME"
    SPAN_COUNT = "SPAN_COUNT"
    TOKENS = "TOKENS"


@strawberry.enum(description="What an execution's spans can be sorted by; DURATION puts running ones first ascending.")
class SpanOrderField(Enum):
    START_TIME = "START_TIME"
    DURATION = "DURATION"
    NAME = "NAME"
    TOKENS = "TOKENS"


@strawberry.enum(description="What events can be sorted by.")
class EventOrderField(Enum):
    TIMESTAMP = "TIMESTAMP"
    NAME = "NAME"


@strawberry.input(description="Sort executions by one field; ties are broken by id in the same direction.")
class ExecutionOrder:
    field: ExecutionOrderField
    direction: SortDirection

    def to_order(self) -> Order[Any]:
        return execution_order(self.field.value, self.direction is SortDirection.DESC)


@strawberry.input(description="Sort spans by one field; ties are broken by span id in the same direction.")
class SpanOrder:
    field: SpanOrderField
    direction: SortDirection

    def to_order(self) -> Order[Any]:
        return span_order(self.field.value, self.direction is SortDirection.DESC)


@strawberry.input(description="Sort events by one field; ties are broken by id in the same direction.")
class EventOrder:
    field: EventOrderField
    direction: SortDirection

    def to_order(self) -> Order[Any]:
        return event_order(self.field.value, self.direction is SortDirection.DESC)
