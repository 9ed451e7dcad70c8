"""Conversions of values read back from ClickHouse."""

from __future__ import annotations

from datetime import UTC, datetime


def utc(value: datetime) -> datetime:
    """chDB may drop the zone of DateTime64('UTC') columns; every time column here is UTC."""
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value
