"""Scalars: `DateTime` is ISO-8601 in UTC (always with a `Z`), `JSON` is any JSON value."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, NewType

import orjson
import strawberry
from strawberry.scalars import JSON

from storage.clickhouse.values import iso

__all__ = ["JSON", "DateTime", "format_datetime"]


def format_datetime(value: datetime | str) -> str:
    if isinstance(value, str):  # already formatted (by ClickHouse, for big traces)
        return value
    return iso(value)


def _parse(value: Any) -> datetime:
    if not isinstance(value, str):
        raise ValueError("DateTime must be an ISO-8601 string")
    parsed = datetime.fromisoformat(value)
    return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)


DateTime = strawberry.scalar(
    NewType("DateTime", datetime),
    name="DateTime",
    description="An ISO-8601 date-time; always returned in UTC with a `Z`.",
    serialize=format_datetime,
    parse_value=_parse,
)


def json_value(raw: str) -> object:
    """A stored JSON text as the value the JSON scalar returns; an empty text is null."""
    return orjson.loads(raw) if raw else None
