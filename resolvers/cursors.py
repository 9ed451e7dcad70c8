"""Opaque keyset cursors: base64url of a small JSON array naming the last row's sort key."""

from __future__ import annotations

import base64
from datetime import UTC, datetime
from typing import Any

import orjson

from storage.clickhouse.values import storable


class InvalidCursor(ValueError):
    pass


def encode(*parts: Any) -> str:
    raw = orjson.dumps([p.isoformat() if isinstance(p, datetime) else p for p in parts])
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _time(part: Any) -> datetime:
    """A cursor's time is one a stored row had: inside the storable range (naive means UTC)."""
    parsed = datetime.fromisoformat(part)
    parsed = parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)  # may overflow
    if not storable(parsed):
        raise ValueError
    return parsed


def decode(cursor: str, kinds: tuple[type, ...]) -> tuple[Any, ...]:
    """Decode and check the shape; `datetime` parts come back parsed."""
    try:
        parts = orjson.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
        if not isinstance(parts, list) or len(parts) != len(kinds):
            raise ValueError
        out: list[Any] = []
        for part, kind in zip(parts, kinds, strict=True):
            if kind is datetime:
                out.append(_time(part))
            elif isinstance(part, kind):
                out.append(part)
            else:
                raise ValueError
        return tuple(out)
    except (ValueError, TypeError, OverflowError, orjson.JSONDecodeError):
        raise InvalidCursor(f"invalid cursor {cursor!r}") from None
