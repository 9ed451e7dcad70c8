"""Relay connections: `edges { cursor node }`, `pageInfo`, `totalCount` (counted only when asked)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterator, Sequence
from typing import Any, Generic, TypeVar, overload

import strawberry

from resolvers.paging import Page

T = TypeVar("T")
Item = TypeVar("Item")


@strawberry.type
class PageInfo:
    has_next_page: bool
    end_cursor: str | None
    has_previous_page: bool = False
    start_cursor: str | None = None


@strawberry.type
class Edge(Generic[T]):
    node: T
    # the page's item type is not the node's (a record, wrapped): only the page reads the item, for its cursor
    _page: strawberry.Private[Page[Any]]
    _item: strawberry.Private[Any]

    @strawberry.field
    def cursor(self) -> str:
        return self._page.cursor(self._item)


_new = object.__new__


def _edge(node: T, page: Page[Any], item: Any) -> Edge[T]:
    """Edge(node=…, _page=…, _item=…) with its attributes set as one dict: the dataclass __init__ with
    keywords costs ~3x as much, once per item of a page (10,000 for a big trace's)."""
    edge: Edge[T] = _new(Edge)
    edge.__dict__ = {"node": node, "_page": page, "_item": item}
    return edge


class Edges(Sequence[Edge[T]]):
    """A page's edges, each built when read: a 50,000-item page does not hold 50,000 edges and wrapped nodes
    (each a few objects for the cyclic collector to walk) for the whole operation, only while each one is
    completed (graph/fast_execution.py encodes it right away for HTTP responses)."""

    __slots__ = ("_page", "_wrap", "record_type")

    def __init__(self, page: Page[Any], wrap: Callable[[Any], T], record_type: type | None = None) -> None:
        self._page = page
        self._wrap = wrap
        # The class `wrap` makes of an item, when the fast path may read the item through that class's
        # FAST_RECORD_READS instead (graph/fast_execution.py): wrap(item) is an instance of it, uncast, whose
        # attributes named there are those reads of the item.
        self.record_type = record_type

    def _edge(self, item: Any) -> Edge[T]:
        return _edge(self._wrap(item), self._page, item)

    def __len__(self) -> int:
        return len(self._page.items)

    @overload
    def __getitem__(self, index: int) -> Edge[T]: ...
    @overload
    def __getitem__(self, index: slice) -> list[Edge[T]]: ...
    def __getitem__(self, index: int | slice) -> Edge[T] | list[Edge[T]]:
        if isinstance(index, slice):
            return [self._edge(item) for item in self._page.items[index]]
        return self._edge(self._page.items[index])

    def nodes(self) -> Iterator[T]:
        """The edges' nodes, without their Edge objects: for a selection of `edges { node }` alone, which reads
        nothing else of an edge (graph/fast_execution.py)."""
        return map(self._wrap, self._page.items)

    def records(self) -> Sequence[Any]:
        """The items the edges' nodes wrap (see record_type)."""
        return self._page.items

    def __iter__(self) -> Iterator[Edge[T]]:
        page, wrap = self._page, self._wrap
        for item in page.items:
            edge: Edge[T] = _new(Edge)  # _edge's body: a call fewer for each item of a big page
            edge.__dict__ = {"node": wrap(item), "_page": page, "_item": item}
            yield edge


@strawberry.type
class Connection(Generic[T]):
    edges: Sequence[Edge[T]]
    page_info: PageInfo
    _count: strawberry.Private[Callable[[], Awaitable[int]]]
    _has_after: strawberry.Private[bool] = False

    @strawberry.field(description="How many items match, across all pages.")
    async def total_count(self) -> int:
        return await self._count()

    @classmethod
    def of(
        cls, page: Page[Item], wrap: Callable[[Item], T], has_after: bool = False, record_type: type | None = None
    ) -> Connection[T]:
        return cls(
            edges=Edges(page, wrap, record_type),
            page_info=PageInfo(
                has_next_page=page.has_next,
                end_cursor=page.cursor(page.items[-1]) if page.items else None,
                has_previous_page=has_after or page.has_previous,
                start_cursor=page.cursor(page.items[0]) if page.items else None,
            ),
            _count=page.count,
            _has_after=has_after,
        )
