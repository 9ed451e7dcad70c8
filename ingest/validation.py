"""Small, fast field checks for the write formats; every failure names the item index and the field."""

from __future__ import annotations

import hashlib
import uuid
from datetime import UTC, datetime, timedelta
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


# Stored JSON is read back inside response envelopes (a GraphQL result, a span tree, a websocket
# message), and orjson writes at most 254 levels: keep stored values well under that.
MAX_JSON_DEPTH = 128


def maybe_json(value: Any) -> Any:
    """A string that holds a JSON object or array, decoded (OTLP attributes carry such values as text);
    anything else as it is."""
    if isinstance(value, str) and value[:1] in ("{", "["):
        try:
            return orjson.loads(value)
        except orjson.JSONDecodeError:
            return value
    return value


def dumps(value: Any, loc: Loc = ()) -> str:
    """JSON text of a value to store; one that cannot be stored and read back (nested deeper than
    MAX_JSON_DEPTH, an integer beyond 64 bits) is the client's error at `loc`, or at its first key at fault."""
    try:
        out = orjson.dumps(value)
        if _may_nest_deep(out):
            _encode(value)  # _encode's depth check, only for a text long and bracketed enough to need it
        return out.decode()
    except orjson.JSONEncodeError as exc:
        raise InvalidInput(_culprit(value, loc), _message(exc), "json_invalid") from None


def _may_nest_deep(out: bytes) -> bool:
    """Whether a JSON text may nest deeper than MAX_JSON_DEPTH: nesting n deep takes at least n opening brackets (2n
    bytes with their closing ones), so a short text cannot, and one with few brackets cannot (counted in one pass:
    the length the brackets' deletion takes off, ~40% faster than two counts); the depth itself is measured only
    for the rest."""
    return len(out) > 2 * MAX_JSON_DEPTH and len(out) - len(out.translate(None, b"[{")) > MAX_JSON_DEPTH


def storable_text(value: Any) -> str | None:
    """dumps(value)'s text, or None where dumps would refuse it (nested too deep, an integer past 64 bits): for a
    caller whose slower path then raises dumps' error with its location. A value nested in one it returns would
    pass too (no deeper, and made of values orjson encoded)."""
    try:
        return _encode(value).decode()
    except orjson.JSONEncodeError:
        return None


def _encode(value: Any) -> bytes:
    out = orjson.dumps(value)
    if _may_nest_deep(out):
        wrapped = value
        for _ in range(254 - MAX_JSON_DEPTH):  # orjson refuses the 255th level
            wrapped = [wrapped]
        orjson.dumps(wrapped)
    return out


def _message(exc: orjson.JSONEncodeError) -> str:
    if "Recursion" in str(exc):
        return f"nests deeper than {MAX_JSON_DEPTH} levels"
    return f"cannot be stored as JSON: {exc}"


def _culprit(value: Any, loc: Loc) -> Loc:
    """One level down: the key (or index) whose value is at fault, if one is."""
    children = value.items() if isinstance(value, dict) else enumerate(value) if isinstance(value, list) else ()
    for key, child in children:
        try:
            _encode(child)
        except orjson.JSONEncodeError:
            return (*loc, key) if isinstance(key, str | int) else loc
    return loc


# The registries' keys are Postgres btree entries, which must fit a third of a page (2,704 bytes) together.
MAX_KEY_BYTES = 1000


def no_nul(value: str, loc: Loc) -> str:
    """Postgres text (and jsonb) cannot hold NUL: refuse it in anything the registries keep."""
    if "\x00" in value:
        raise InvalidInput(loc, "must not contain NUL (\\u0000) characters", "string_nul")
    return value


def registry_key(value: str, loc: Loc) -> str:
    """An actor, resource or definition type or id: no NUL, and short enough to index."""
    if len(value) > MAX_KEY_BYTES // 4 and len(value.encode()) > MAX_KEY_BYTES:
        raise InvalidInput(loc, f"must be at most {MAX_KEY_BYTES} bytes of UTF-8", "string_too_long")
    return no_nul(value, loc)


def no_nul_in(value: Any, loc: Loc) -> None:
    """No NUL in any string of a JSON value kept as jsonb."""
    if isinstance(value, str):
        no_nul(value, loc)
    elif isinstance(value, dict):
        for key, item in value.items():
            no_nul(key, (*loc, key))
            no_nul_in(item, (*loc, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            no_nul_in(item, (*loc, index))


def new_id() -> str:
    return str(uuid.uuid4())


def uuid5(namespace: uuid.UUID, name: str) -> str:
    """str(uuid.uuid5(namespace, name)) without building a UUID object: ids of every span of a big export."""
    digest = bytearray(hashlib.sha1(namespace.bytes + name.encode()).digest()[:16])
    digest[6] = (digest[6] & 0x0F) | 0x50  # version 5
    digest[8] = (digest[8] & 0x3F) | 0x80  # RFC 4122 variant
    h = digest.hex()
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"


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


def registry_str(item: dict[str, Any], key: str, loc: Loc) -> str:
    """An optional actor or resource type or id: a key of a Postgres registry."""
    return registry_key(opt_str(item, key, loc), (*loc, key))


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
    try:
        parsed = parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)
    except OverflowError:  # 9999-12-31T23:59:59-14:00 is past year 9999 in UTC
        raise InvalidInput(loc, RANGE_MESSAGE, "datetime_range") from None
    return _in_range(parsed, loc)


RANGE_MESSAGE = "must be between 1900-01-01 and 2299-12-31 (UTC)"


def _in_range(value: datetime, loc: Loc) -> datetime:
    if not storable(value):
        raise InvalidInput(loc, RANGE_MESSAGE, "datetime_range")
    return value


def after(start: datetime, millis: Any, loc: Loc) -> datetime:
    """`start` plus a duration in milliseconds, which must be a non-negative number keeping it storable."""
    if isinstance(millis, bool) or not isinstance(millis, int | float):
        raise InvalidInput(loc, "must be a number of milliseconds", "float_type")
    if not 0 <= millis < 1e15:  # also refuses NaN; 1e15 ms is ~31,700 years
        raise InvalidInput(loc, "must be between 0 and 1e15 milliseconds", "value_error")
    try:
        end = start + timedelta(milliseconds=millis)
    except OverflowError:
        raise InvalidInput(loc, "ends past 9999-12-31", "value_error") from None
    if not storable(end):
        raise InvalidInput(loc, f"ends out of range: the end {RANGE_MESSAGE}", "datetime_range")
    return end


SECONDS_BELOW = 1e11  # a HoneyHive time this small is in seconds, not milliseconds


def parse_millis(value: Any, loc: Loc) -> datetime:
    """Unix milliseconds (HoneyHive) to an aware UTC datetime. HoneyHive's SDKs also send seconds (floats
    such as 1.7e9): a magnitude below 1e11 is read as seconds, since as milliseconds it would be 1973 or
    earlier, while 1e11 seconds is past the year 5000 and refused anyway."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise InvalidInput(loc, "must be a number of Unix milliseconds (or seconds)", "float_type")
    try:
        seconds = value if abs(value) < SECONDS_BELOW else value / 1000.0
        return _in_range(datetime.fromtimestamp(seconds, tz=UTC), loc)
    except (OverflowError, OSError, ValueError):
        raise InvalidInput(loc, "is out of range", "value_error") from None


def opt_time(item: dict[str, Any], key: str, loc: Loc) -> datetime | None:
    value = item.get(key)
    return None if value is None else parse_time(value, (*loc, key))


def now() -> datetime:
    return datetime.now(UTC)
