"""Cost in one unit (USD, …); spans and executions carry one entry per unit."""

from __future__ import annotations

import orjson
import strawberry


@strawberry.type
class Cost:
    value: float
    unit: str

    @classmethod
    def from_json(cls, raw: str) -> list[Cost]:
        return [cls(value=c["value"], unit=c["unit"]) for c in orjson.loads(raw)] if raw else []
