"""Keyset paging shared by every connection: bounds on `first`, cursor decoding, one extra row."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Generic, TypeVar

from resolvers import cursors
from resolvers.errors import bad_input

T = TypeVar("T")

MAX_PAGE = 1000


@dataclass
class Page(Generic[T]):
    items: list[T]
    key: Callable[[T], tuple[object, ...]]  # the keyset of an item; its cursor is encoded only when asked
    has_next: bool
    count: Callable[[], Awaitable[int]]

    def cursor(self, item: T) -> str:
        return cursors.encode(*self.key(item))


def check_first(first: int | None, default: int, maximum: int = MAX_PAGE) -> int:
    """`first: null` means the field's default; outside 0..maximum is a client error."""
    if first is None:
        return default
    if first < 0 or first > maximum:
        raise bad_input(f"first must be between 0 and {maximum}", "first")
    return first


def decode_cursor(after: str | None, kinds: tuple[type, ...]) -> tuple[Any, ...] | None:
    """The keyset an `after` cursor names, its parts of these kinds; a cursor that is not one is BAD_USER_INPUT."""
    if after is None:
        return None
    try:
        return cursors.decode(after, kinds)
    except cursors.InvalidCursor as exc:
        raise bad_input(str(exc), "after") from None


def decode_after(after: str | None) -> tuple[datetime, str] | None:
    """The (time, id) keyset an `after` cursor names: most lists here are ordered that way."""
    decoded = decode_cursor(after, (datetime, str))
    return None if decoded is None else (decoded[0], decoded[1])


def make_page(
    rows: Sequence[T], first: int, key: Callable[[T], tuple[object, ...]], count: Callable[[], Awaitable[int]]
) -> Page[T]:
    """`rows` was fetched with LIMIT first + 1: the extra row only says there is a next page."""
    return Page(list(rows[:first]), key, len(rows) > first, count)


async def keyset_page(
    first: int | None,
    default: int,
    after: str | None,
    fetch: Callable[[int, tuple[datetime, str] | None], Awaitable[list[T]]],
    count: Callable[[], Awaitable[int]],
    key: Callable[[T], tuple[object, ...]],
) -> Page[T]:
    """A page of a (time, id)-ordered list read from the store: one row more than asked says if more exist."""
    first = check_first(first, default)
    cursor = decode_after(after)
    rows = await fetch(first + 1, cursor) if first else []
    return make_page(rows, first, key, count)
