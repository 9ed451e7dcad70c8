"""The `events(first, after, last, before)` connection that Execution, Actor and Resource each have: one
signature and one resolver, with each type's own description and page of events (its `_events`)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any, Protocol

import strawberry

from graph.connection import Connection
from graph.context import Info

if TYPE_CHECKING:
    from graph.event import Event

EventConnection = Connection[Annotated["Event", strawberry.lazy("graph.event")]]


class HasEvents(Protocol):
    async def _events(
        self, info: Info, first: int | None, after: str | None, last: int | None, before: str | None
    ) -> EventConnection: ...


def events_field(description: str) -> Any:
    """The field, for a type whose `_events` gives the page (newest or oldest first, as it says)."""

    async def events(
        self: HasEvents,
        info: Info,
        first: int | None = 100,
        after: str | None = None,
        last: int | None = None,
        before: str | None = None,
    ) -> Connection[Annotated[Event, strawberry.lazy("graph.event")]]:
        return await self._events(info, first, after, last, before)

    return strawberry.field(resolver=events, description=description)
