"""Cost in one unit (USD, …); spans and executions carry one entry per unit."""

from __future__ import annotations

import orjson
import strawberry


@strawberry.type
class Cost:
    value: float
    unit: str
    source: str | None = strawberry.field(
        default=None,
        description="Where the figure came from: `reported` by the client, `price_table:<model>` when derived "
        "from token usage, null when sent as a plain cost.",
    )

    @classmethod
    def from_json(cls, raw: str) -> list[Cost]:
        return [cls(value=c["value"], unit=c["unit"], source=c.get("source")) for c in orjson.loads(raw)] if raw else []
