"""Keyset paging shared by every connection: an order, a window (`first/after` or `last/before`), cursors.

A cursor names the order it was made in and the last row's (sort value, id): pages stay correct while
rows are added, ties on the sort value are broken by id, and a cursor from another order is refused.
`last/before` reads the same order reversed from the cursor, then flips the rows back.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from resolvers import cursors
from resolvers.errors import bad_input

T = TypeVar("T")

MAX_PAGE = 1000


@dataclass(frozen=True)
class Order(Generic[T]):
    """A list's sort: a whitelisted field name, its direction, and how to read the sort value off a row
    (the store computes the same value in SQL; both break ties by the row's id)."""

    field: str
    descending: bool
    kind: type  # the sort value's type inside a cursor
    value: Callable[[T], Any]
    # what breaks ties: the row's id, or what identifies a row where the id alone does not (an event's id
    # is unique within its format: storage/clickhouse/events.TIE)
    tie: Callable[[T], str] | None = None

    @property
    def tag(self) -> str:
        return f"{self.field}:{'DESC' if self.descending else 'ASC'}"

    def key(self, item: T) -> tuple[Any, ...]:
        return (self.tag, self.value(item), self.tie(item) if self.tie else item.id)  # type: ignore[attr-defined]


@dataclass(frozen=True)
class Window:
    """The slice a connection asks for: `size` rows past `cursor` (exclusive), read forward or backward."""

    size: int
    cursor: tuple[Any, str] | None
    backward: bool

    def descending(self, order: Order[Any]) -> bool:
        """The direction the store reads in: the order's, reversed when paging backward."""
        return order.descending != self.backward


@dataclass
class Page(Generic[T]):
    items: list[T]
    key: Callable[[T], tuple[object, ...]]  # the keyset of an item; its cursor is encoded only when asked
    has_next: bool
    count: Callable[[], Awaitable[int]]
    has_previous: bool = False

    def cursor(self, item: T) -> str:
        return cursors.encode(*self.key(item))


def check_first(first: int | None, default: int, maximum: int = MAX_PAGE, argument: str = "first") -> int:
    """`first: null` means the field's default; outside 0..maximum is a client error."""
    if first is None:
        return default
    if first < 0 or first > maximum:
        raise bad_input(f"{argument} must be between 0 and {maximum}", argument)
    return first


def decode_cursor(cursor: str | None, order: Order[Any], argument: str) -> tuple[Any, str] | None:
    if cursor is None:
        return None
    try:
        tag, value, row_id = cursors.decode(cursor, (str, order.kind, str))
    except cursors.InvalidCursor as exc:
        raise bad_input(str(exc), argument) from None
    if tag != order.tag:
        raise bad_input(f"the `{argument}` cursor was made for orderBy {tag}, not {order.tag}", argument)
    return value, row_id


def window(
    order: Order[Any],
    first: int | None,
    after: str | None,
    last: int | None,
    before: str | None,
    default: int,
    maximum: int = MAX_PAGE,
) -> Window:
    """`last` pages backward (and wins over `first`, which always has a default); mixing the directions'
    cursors is a client error."""
    if last is not None:
        if after is not None:
            raise bad_input("`after` pages forward: page backward with `last` and `before`", "after")
        return Window(check_first(last, default, maximum, "last"), decode_cursor(before, order, "before"), True)
    if before is not None:
        raise bad_input("`before` pages backward: use it with `last`", "before")
    return Window(check_first(first, default, maximum), decode_cursor(after, order, "after"), False)


def make_page(rows: Sequence[T], win: Window, order: Order[T], count: Callable[[], Awaitable[int]]) -> Page[T]:
    """`rows` were read in the window's direction with LIMIT size + 1: the extra row says more exist."""
    items, more = list(rows[: win.size]), len(rows) > win.size
    if not win.backward:
        return Page(items, order.key, more, count, has_previous=win.cursor is not None)
    items.reverse()
    return Page(items, order.key, win.cursor is not None, count, has_previous=more)


async def keyset_page(
    win: Window,
    order: Order[T],
    fetch: Callable[[int, tuple[Any, str] | None, bool], Awaitable[list[T]]],
    count: Callable[[], Awaitable[int]],
) -> Page[T]:
    """A page read from the store: fetch(limit, exclusive keyset, descending)."""
    rows = await fetch(win.size + 1, win.cursor, win.descending(order)) if win.size else []
    return make_page(rows, win, order, count)
