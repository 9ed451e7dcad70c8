"""Relay connections: `edges { cursor node }`, `pageInfo`, `totalCount` (counted only when asked)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any, Generic, TypeVar

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


@strawberry.type
class Connection(Generic[T]):
    edges: list[Edge[T]]
    page_info: PageInfo
    _count: strawberry.Private[Callable[[], Awaitable[int]]]
    _has_after: strawberry.Private[bool] = False

    @strawberry.field(description="How many items match, across all pages.")
    async def total_count(self) -> int:
        return await self._count()

    @classmethod
    def of(cls, page: Page[Item], wrap: Callable[[Item], T], has_after: bool = False) -> Connection[T]:
        edges = [Edge(node=wrap(item), _page=page, _item=item) for item in page.items]
        return cls(
            edges=edges,
            page_info=PageInfo(
                has_next_page=page.has_next,
                end_cursor=page.cursor(page.items[-1]) if page.items else None,
                has_previous_page=has_after or page.has_previous,
                start_cursor=page.cursor(page.items[0]) if page.items else None,
            ),
            _count=page.count,
            _has_after=has_after,
        )
