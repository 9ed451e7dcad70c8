"""`orderBy` inputs of the lists: which field to sort by (a closed set per list) and the direction."""

from __future__ import annotations

from enum import Enum
from typing import Any, Generic, TypeVar

import strawberry

from graph.enums import SortDirection
from resolvers.events import event_order
from resolvers.executions import execution_order, span_order
from resolvers.paging import Order

F = TypeVar("F", bound=Enum)


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


@strawberry.input
class _Order(Generic[F]):
    """One field of a closed set and a direction; `sort` turns them into the list's keyset order."""

    field: F
    direction: SortDirection

    @staticmethod
    def sort(field: str, descending: bool) -> Order[Any]:  # the list's: each input names its own
        raise NotImplementedError

    def to_order(self) -> Order[Any]:
        return self.sort(self.field.value, self.direction is SortDirection.DESC)


@strawberry.input(description="Sort executions by one field; ties are broken by id in the same direction.")
class ExecutionOrder(_Order[ExecutionOrderField]):
    sort = staticmethod(execution_order)


@strawberry.input(description="Sort spans by one field; ties are broken by span id in the same direction.")
class SpanOrder(_Order[SpanOrderField]):
    sort = staticmethod(span_order)


@strawberry.input(description="Sort events by one field; ties are broken by id in the same direction.")
class EventOrder(_Order[EventOrderField]):
    sort = staticmethod(event_order)
