"""A span's or execution's error, in whichever shape the format sent it."""

from __future__ import annotations

from typing import Any

import orjson
import strawberry

from graph.scalars import JSON


@strawberry.type
class SpanError:
    message: str | None
    code: str | None
    stacktrace: str | None
    raw_data: JSON | None

    @classmethod
    def from_json(cls, raw: str) -> SpanError | None:
        if not raw:
            return None
        value: Any = orjson.loads(raw)
        if not isinstance(value, dict):
            return cls(message=str(value), code=None, stacktrace=None, raw_data=value)
        code = value.get("code")
        return cls(
            message=value.get("message") if isinstance(value.get("message"), str) else None,
            code=str(code) if code is not None else None,
            stacktrace=value.get("stacktrace") if isinstance(value.get("stacktrace"), str) else None,
            raw_data=value.get("raw_data", value.get("rawData")),
        )
