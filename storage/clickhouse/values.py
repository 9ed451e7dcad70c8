"""Conversions of values read back from ClickHouse."""

from __future__ import annotations

from datetime import UTC, datetime


def utc(value: datetime) -> datetime:
    """chDB may drop the zone of DateTime64('UTC') columns; every time column here is UTC."""
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value


# DateTime64's range: values outside it cannot be stored or even passed as parameters.
MIN_TIME = datetime(1900, 1, 1, tzinfo=UTC)
MAX_TIME = datetime(2299, 12, 31, tzinfo=UTC)


def clamp(value: datetime) -> datetime:
    """A time bound of a read, moved into the storable range (a bound beyond it matches the same rows)."""
    value = utc(value)
    return min(max(value, MIN_TIME), MAX_TIME)


def storable(value: datetime) -> bool:
    return MIN_TIME <= utc(value) <= MAX_TIME


def iso(value: datetime) -> str:
    """ISO-8601 in UTC with microseconds and a `Z`: the one way times are shown (as ClickHouse formats them)."""
    return utc(value).astimezone(UTC).isoformat(timespec="microseconds").replace("+00:00", "Z")


def duration_ms(start: datetime, end: datetime | None) -> float | None:
    """Milliseconds from start to end; None while running."""
    return None if end is None else (end - start).total_seconds() * 1000.0


def add_filter(clauses: list[str], params: dict[str, object], clause: str, name: str, value: object) -> None:
    """Add `clause`, which names the typed parameter {name:Type}, with its value; an unset filter (None, or
    an empty list) adds nothing."""
    if value is None or (isinstance(value, list | tuple | set | frozenset) and not value):
        return
    clauses.append(clause)
    params[name] = list(value) if isinstance(value, tuple | set | frozenset) else value


def add_time_range(
    column: str, since: datetime | None, until: datetime | None, clauses: list[str], params: dict[str, object]
) -> None:
    """`column` in [since, until), as typed parameters; bounds are clamped into the storable range."""
    if since is not None:
        clauses.append(f"{column} >= {{since:DateTime64(6, 'UTC')}}")
        params["since"] = clamp(since)
    if until is not None:
        clauses.append(f"{column} < {{until:DateTime64(6, 'UTC')}}")
        params["until"] = clamp(until)
