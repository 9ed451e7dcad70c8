"""Scalars: `DateTime` is ISO-8601 in UTC (always with a `Z`), `JSON` is any JSON value."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, NewType

import orjson
import strawberry
from graphql import GraphQLError
from strawberry.scalars import JSON

from storage.clickhouse.values import iso

__all__ = ["JSON", "DateTime", "format_datetime", "json_text"]


def format_datetime(value: datetime | str) -> str:
    if isinstance(value, str):  # already formatted (by ClickHouse, for big traces)
        return value
    return iso(value)


def _parse(value: Any) -> datetime:
    # A GraphQLError with a code, not a ValueError: graphql-core keeps it as the client's error for literals
    # too, where an exception would read as an unexpected one (INTERNAL_SERVER_ERROR).
    if not isinstance(value, str):
        raise _bad_datetime("DateTime must be an ISO-8601 string")
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        raise _bad_datetime(f"DateTime {value!r} is not an ISO-8601 date-time") from None
    try:
        return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)
    except OverflowError:  # e.g. 9999-12-31T23:59:59-14:00, which is past year 9999 in UTC
        raise _bad_datetime(f"DateTime {value!r} is out of range in UTC (years 1 to 9999)") from None


def _bad_datetime(message: str) -> GraphQLError:
    return GraphQLError(message, extensions={"code": "BAD_USER_INPUT"})


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


def json_text(raw: str) -> JSON | None:
    """A stored JSON text (written by the ingest path's encoder, so valid JSON) as the JSON scalar's value,
    handed to the response encoder as it is: orjson embeds a Fragment without parsing it, where a
    50,000-span trace parsed and re-encoded 150,000 texts. An empty text is null. (Not wrapped in JSON(…), a
    NewType: its call returns the value as it is, three times a span of a trace.)"""
    return orjson.Fragment(raw) if raw else None  # type: ignore[return-value]  # a JSON value, see above
