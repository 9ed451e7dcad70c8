"""Small, fast field checks for the write formats; every failure names the item index and the field."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

import orjson

from storage.clickhouse.values import storable

Loc = tuple[str | int, ...]


class InvalidInput(Exception):
    """A rejected batch: `errors` follows FastAPI's shape ({loc, msg, type}); nothing of it is stored."""

    def __init__(self, loc: Loc, msg: str, kind: str = "value_error") -> None:
        self.errors = [{"loc": list(loc), "msg": msg, "type": kind}]
        super().__init__(f"{format_loc(loc)}: {msg}")

    @property
    def field(self) -> str:
        return format_loc(tuple(self.errors[0]["loc"]))


class TooLarge(Exception):
    """A batch or body over the configured limit (413)."""


def format_loc(loc: Loc) -> str:
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else part)
    return out


def dumps(value: Any) -> str:
    return orjson.dumps(value).decode()


def new_id() -> str:
    return str(uuid.uuid4())


def obj(value: Any, loc: Loc) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise InvalidInput(loc, "must be an object", "dict_type")
    return value


def req_str(item: dict[str, Any], key: str, loc: Loc) -> str:
    value = item.get(key)
    if value is None:
        raise InvalidInput((*loc, key), "field required", "missing")
    if not isinstance(value, str) or not value:
        raise InvalidInput((*loc, key), "must be a non-empty string", "string_type")
    return value


def opt_str(item: dict[str, Any], key: str, loc: Loc) -> str:
    value = item.get(key)
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    raise InvalidInput((*loc, key), "must be a string", "string_type")


def opt_obj(item: dict[str, Any], key: str, loc: Loc) -> dict[str, Any] | None:
    value = item.get(key)
    if value is None:
        return None
    if not isinstance(value, dict):
        raise InvalidInput((*loc, key), "must be an object", "dict_type")
    return value


def opt_list(item: dict[str, Any], key: str, loc: Loc) -> list[Any] | None:
    value = item.get(key)
    if value is None:
        return None
    if not isinstance(value, list):
        raise InvalidInput((*loc, key), "must be a list", "list_type")
    return value


def parse_time(value: Any, loc: Loc) -> datetime:
    """ISO-8601 string (naive means UTC) to an aware UTC datetime."""
    if isinstance(value, datetime):
        parsed = value
    elif isinstance(value, str):
        try:
            parsed = datetime.fromisoformat(value)
        except ValueError:
            raise InvalidInput(loc, "must be an ISO-8601 date-time", "datetime_parsing") from None
    else:
        raise InvalidInput(loc, "must be an ISO-8601 date-time string", "datetime_type")
    parsed = parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)
    return _in_range(parsed, loc)


def _in_range(value: datetime, loc: Loc) -> datetime:
    if not storable(value):
        raise InvalidInput(loc, "must be between 1900-01-01 and 2299-12-31", "datetime_range")
    return value


def parse_millis(value: Any, loc: Loc) -> datetime:
    """Unix milliseconds (HoneyHive) to an aware UTC datetime."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise InvalidInput(loc, "must be a number of Unix milliseconds", "float_type")
    try:
        return _in_range(datetime.fromtimestamp(value / 1000.0, tz=UTC), loc)
    except (OverflowError, OSError, ValueError):
        raise InvalidInput(loc, "is out of range", "value_error") from None


def opt_time(item: dict[str, Any], key: str, loc: Loc) -> datetime | None:
    value = item.get(key)
    return None if value is None else parse_time(value, (*loc, key))


def now() -> datetime:
    return datetime.now(UTC)
